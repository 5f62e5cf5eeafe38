using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text.Unicode;
using Apache.Arrow;
using Array = System.Array;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Parsing;

/// <summary>
/// Schema-driven protobuf wire-format parse straight into Arrow builders: no message objects. Each message level is
/// scanned once into a table of field occurrences (the last one wins for singular fields; a singular message that
/// occurs twice is merged, as the protobuf spec says, by scanning both occurrences into one table), then emitted in
/// schema order. Unknown fields (groups included) are skipped. A malformed message is rolled back out of the builders
/// and reported with its field path; the rest of the batch goes on.
/// </summary>
public sealed class ProtobufParseKernel : ParseKernel
{
    private readonly Node _root;

    /// <summary>Prepares the kernel for <paramref name="message"/>.</summary>
    public ProtobufParseKernel(ProtoMessage message)
    {
        Message = message;
        _root = new Node(message, 0);
    }

    /// <summary>The protobuf schema read.</summary>
    public ProtoMessage Message { get; }

    /// <inheritdoc/>
    public override DataType MessageType => Message.Type;

    /// <inheritdoc/>
    public override ParseResult Parse(BinaryArray messages)
    {
        int n = messages.Length;
        var root = ColumnBuilder.Create(MessageType, n);
        var texts = TextBuilders(root).ToArray();
        ReserveText(texts, n);
        var reader = new Reader(_root);
        List<ParseError>? errors = null;
        List<int>? index = null;
        var offsets = messages.ValueOffsets;
        var bytes = messages.ValueBuffer.Span;
        bool nulls = messages.NullCount > 0;
        for (int i = 0; i < n; i++)
        {
            int mark = root.Length;
            var failure = nulls && messages.IsNull(i) ? new Failure("message has no value (a tombstone)")
                : reader.ParseInto(bytes[offsets[i]..offsets[i + 1]], root);
            if (failure is null)
            {
                index?.Add(i);
                continue;
            }
            root.Truncate(mark);
            if (index is null)
            {
                index = new List<int>(n);
                for (int k = 0; k < i; k++) index.Add(k);
            }
            (errors ??= []).Add(failure.ToError(i));
        }
        LearnText(texts, n);
        return new ParseResult(root.Build(), index?.ToArray(), (IReadOnlyList<ParseError>?)errors ?? []);
    }

    // Bytes per message of each string/bytes column in the last batch: the next batch reserves that much up front
    // instead of doubling its way there (a doubling allocates about three times what the column ends up holding).
    private double[] _textBytesPerMessage = [];

    private static IEnumerable<BinaryBuilder> TextBuilders(ColumnBuilder b) => b switch
    {
        BinaryBuilder t => [t],
        StructBuilder s => s.Children.SelectMany(TextBuilders),
        ListBuilder l => TextBuilders(l.Child),
        _ => [],
    };

    private void ReserveText(BinaryBuilder[] texts, int messages)
    {
        var hints = _textBytesPerMessage;
        if (hints.Length != texts.Length) return;
        for (int k = 0; k < texts.Length; k++) texts[k].Reserve((int)Math.Min(int.MaxValue / 2, hints[k] * messages * 1.1) + 64);
    }

    private void LearnText(BinaryBuilder[] texts, int messages)
    {
        if (messages == 0) return;
        var hints = new double[texts.Length];
        for (int k = 0; k < texts.Length; k++) hints[k] = (double)texts[k].DataLength / messages;
        _textBytesPerMessage = hints; // a racy swap between threads is harmless: any batch's figures are a fine hint
    }

    /// <summary>
    /// Parses each non-null value of <paramref name="input"/> into a nullable column of the message type; a value that
    /// does not parse becomes null and is reported through <paramref name="error"/> (row, path, reason).
    /// </summary>
    internal IArrowArray ParseColumn(Arg input, int length, Action<int, string, string> error)
    {
        var b = ColumnBuilder.Create(MessageType.WithNullable(true), length);
        var reader = new Reader(_root);
        for (int i = 0; i < length; i++)
        {
            if (!input.IsValid(i))
            {
                b.AppendNull();
                continue;
            }
            int mark = b.Length;
            if (reader.ParseInto(input.Bytes(i), b) is { } failure)
            {
                b.Truncate(mark);
                b.AppendNull();
                var e = failure.ToError(i);
                error(i, e.Path, e.Reason);
            }
        }
        return b.Build();
    }

    private sealed class Failure(string reason)
    {
        public string Reason { get; } = reason;
        public List<string> Path { get; } = [];

        public Failure At(string segment)
        {
            Path.Add(segment);
            return this;
        }

        public ParseError ToError(int index)
        {
            Path.Reverse();
            return new ParseError(index, string.Join("", Path).TrimStart('.'), Reason);
        }
    }

    /// <summary>One message of the schema tree, with its fields' slots looked up by number.</summary>
    private sealed class Node
    {
        private const int Dense = 64;
        private readonly int[] _dense = new int[Dense];
        private readonly Dictionary<int, int>? _sparse;

        public Node(ProtoMessage message, int id)
        {
            Message = message;
            Id = id;
            Fields = message.Fields.ToArray();
            Array.Fill(_dense, -1);
            Children = new Node?[Fields.Length];
            int next = id + 1;
            for (int i = 0; i < Fields.Length; i++)
            {
                var f = Fields[i];
                if (f.Number < Dense) _dense[f.Number] = i;
                else (_sparse ??= [])[f.Number] = i;
                if (f.Kind == ProtoKind.Message)
                {
                    var child = new Node(f.Message!, next);
                    Children[i] = child;
                    next = child.NextId;
                }
            }
            NextId = next;
        }

        public ProtoMessage Message { get; }
        public ProtoField[] Fields { get; }
        public Node?[] Children { get; }
        /// <summary>Index of this node's occurrence table in a <see cref="Reader"/>.</summary>
        public int Id { get; }
        /// <summary>One past the last id in this subtree.</summary>
        public int NextId { get; }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Slot(int number) => (uint)number < Dense ? _dense[number] : _sparse is not null && _sparse.TryGetValue(number, out var s) ? s : -1;

        public IEnumerable<Node> All() => Children.Where(c => c is not null).SelectMany(c => c!.All()).Prepend(this);
    }

    private struct Occurrence
    {
        public ulong Value; // varint or fixed value
        public int Start, End; // length-delimited range
        public int Next; // next occurrence of the same field, -1 at the end
        public int Wire;
    }

    /// <summary>The occurrences of one message level: a chain per field, first and last.</summary>
    private sealed class Table(int fields)
    {
        public Occurrence[] Items = new Occurrence[16];
        public int Count;
        public readonly int[] First = new int[fields];
        public readonly int[] Last = new int[fields];

        public void Reset()
        {
            Count = 0;
            Array.Fill(First, -1);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(int slot, int wire, ulong value, int start, int end)
        {
            if (Count == Items.Length) Array.Resize(ref Items, Items.Length * 2);
            ref var o = ref Items[Count];
            o.Value = value;
            o.Start = start;
            o.End = end;
            o.Wire = wire;
            o.Next = -1;
            if (First[slot] < 0) First[slot] = Count;
            else Items[Last[slot]].Next = Count;
            Last[slot] = Count;
            Count++;
        }
    }

    /// <summary>Per-call scratch: one occurrence table per schema node. Not shared between threads.</summary>
    private sealed class Reader
    {
        private readonly Node _root;
        private readonly Table[] _tables;

        public Reader(Node root)
        {
            _root = root;
            _tables = new Table[root.NextId];
            foreach (var n in root.All()) _tables[n.Id] = new Table(n.Fields.Length);
        }

        public Failure? ParseInto(ReadOnlySpan<byte> data, ColumnBuilder b)
        {
            if (_root.Message.WellKnown == ProtoWellKnown.None)
            {
                int mark = b.Length;
                if (Direct(data, 0, data.Length, _root, Unsafe.As<StructBuilder>(b))) return null;
                b.Truncate(mark);
            }
            var t = _tables[_root.Id];
            t.Reset();
            return Scan(data, 0, data.Length, _root, t) ?? Emit(data, _root, t, b);
        }

        /// <summary>
        /// The one-pass path for what serializers write: fields in number order, each singular field once (repeated
        /// ones consecutively). Appends straight into the builders; false (builders to be truncated by the caller)
        /// hands the message to the exact two-phase path for anything else, including every error.
        /// </summary>
        private static bool Direct(ReadOnlySpan<byte> data, int pos, int end, Node node, StructBuilder sb)
        {
            var fields = node.Fields;
            var children = sb.Children;
            int next = 0, open = -1;
            while (pos < end)
            {
                if (!Varint(data, ref pos, end, out ulong tag)) return false;
                int wire = (int)(tag & 7);
                ulong number = tag >> 3;
                int slot = number - 1 < 536_870_911 ? node.Slot((int)number) : -2;
                if (slot < 0)
                {
                    if (slot == -2 || !SkipValue(data, ref pos, end, wire)) return false;
                    continue;
                }
                if (slot != open)
                {
                    if (open >= 0)
                    {
                        Unsafe.As<ListBuilder>(children[open]).EndList();
                        open = -1;
                    }
                    if (slot < next) return false;
                    for (; next < slot; next++) AppendAbsent(fields[next], children[next]);
                    next = slot + 1;
                }
                var f = fields[slot];
                var b = children[slot];
                if (f.Repeated)
                {
                    open = slot;
                    b = Unsafe.As<ListBuilder>(b).Child;
                }
                if (wire == 2)
                {
                    if (!Varint(data, ref pos, end, out ulong len) || len > (ulong)(end - pos)) return false;
                    int start = pos;
                    pos += (int)len;
                    switch (f.Kind)
                    {
                        case ProtoKind.String:
                            var text = data[start..pos];
                            if (!IsAscii(text) && !Utf8.IsValid(text)) return false;
                            Unsafe.As<BinaryBuilder>(b).Append(text);
                            break;
                        case ProtoKind.Bytes:
                            Unsafe.As<BinaryBuilder>(b).Append(data[start..pos]);
                            break;
                        case ProtoKind.Message:
                            var child = node.Children[slot]!;
                            if (child.Message.WellKnown != ProtoWellKnown.None || !Direct(data, start, pos, child, Unsafe.As<StructBuilder>(b))) return false;
                            break;
                        default:
                            if (!f.Repeated || AppendPacked(data, f, b, start, pos) is not null) return false;
                            break;
                    }
                    continue;
                }
                if (wire == 0)
                {
                    if (!Varint(data, ref pos, end, out ulong v)) return false;
                    switch (f.Kind)
                    {
                        case ProtoKind.Int64: Unsafe.As<PrimitiveBuilder<long>>(b).Append((long)v); continue;
                        case ProtoKind.Int32 or ProtoKind.Enum: Unsafe.As<PrimitiveBuilder<long>>(b).Append((int)v); continue;
                        case ProtoKind.UInt32: Unsafe.As<PrimitiveBuilder<long>>(b).Append((uint)v); continue;
                        case ProtoKind.UInt64 when v <= long.MaxValue: Unsafe.As<PrimitiveBuilder<long>>(b).Append((long)v); continue;
                        case ProtoKind.Bool: Unsafe.As<BoolBuilder>(b).Append(v != 0); continue;
                        default:
                            if (!DirectVarint(data, f, b, v)) return false;
                            continue;
                    }
                }
                if (!DirectFixed(data, ref pos, end, wire, f, b)) return false;
            }
            if (open >= 0) Unsafe.As<ListBuilder>(children[open]).EndList();
            for (; next < fields.Length; next++) AppendAbsent(fields[next], children[next]);
            sb.EndStruct();
            return true;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static bool DirectVarint(ReadOnlySpan<byte> data, ProtoField f, ColumnBuilder b, ulong v) =>
            AppendScalar(data, f, b, new Occurrence { Wire = 0, Value = v }) is null;

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static bool DirectFixed(ReadOnlySpan<byte> data, ref int pos, int end, int wire, ProtoField f, ColumnBuilder b)
        {
            var o = new Occurrence { Wire = wire };
            switch (wire)
            {
                case 1:
                    if (end - pos < 8) return false;
                    o.Value = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(pos, 8));
                    pos += 8;
                    break;
                case 5:
                    if (end - pos < 4) return false;
                    o.Value = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(pos, 4));
                    pos += 4;
                    break;
                default:
                    return false;
            }
            return AppendScalar(data, f, b, in o) is null;
        }

        /// <summary>Short ASCII strings (most field values) checked inline, 8 bytes at a time.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static bool IsAscii(ReadOnlySpan<byte> s)
        {
            ulong bits = 0;
            int i = 0;
            for (; i + 8 <= s.Length; i += 8) bits |= BinaryPrimitives.ReadUInt64LittleEndian(s[i..]);
            for (; i < s.Length; i++) bits |= s[i];
            return (bits & 0x8080808080808080UL) == 0;
        }

        private static bool SkipValue(ReadOnlySpan<byte> data, ref int pos, int end, int wire)
        {
            switch (wire)
            {
                case 0: return Varint(data, ref pos, end, out _);
                case 1: pos += 8; return pos <= end;
                case 5: pos += 4; return pos <= end;
                case 2:
                    if (!Varint(data, ref pos, end, out ulong len) || len > (ulong)(end - pos)) return false;
                    pos += (int)len;
                    return true;
                default: return false; // groups: the two-phase path skips them
            }
        }

        private static void AppendAbsent(ProtoField f, ColumnBuilder b)
        {
            if (f.Repeated) Unsafe.As<ListBuilder>(b).EndList();
            else if (f.HasPresence || f.Kind == ProtoKind.Message) b.AppendNull();
            else AppendDefault(f, b);
        }

        private static Failure? Scan(ReadOnlySpan<byte> data, int pos, int end, Node node, Table t)
        {
            while (pos < end)
            {
                int tagAt = pos;
                if (!Varint(data, ref pos, end, out ulong tag)) return Truncated("a field tag", tagAt);
                int wire = (int)(tag & 7);
                ulong number = tag >> 3;
                if (number == 0 || number > 536_870_911) return new Failure($"invalid field number {number} at byte {tagAt}");
                int slot = node.Slot((int)number);
                ulong value = 0;
                int start = 0, stop = 0;
                switch (wire)
                {
                    case 0:
                        if (!Varint(data, ref pos, end, out value)) return Truncated($"the varint of field {number}", tagAt);
                        break;
                    case 1:
                        if (end - pos < 8) return Truncated($"the 8 bytes of field {number}", tagAt);
                        value = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(pos, 8));
                        pos += 8;
                        break;
                    case 5:
                        if (end - pos < 4) return Truncated($"the 4 bytes of field {number}", tagAt);
                        value = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(pos, 4));
                        pos += 4;
                        break;
                    case 2:
                        if (!Varint(data, ref pos, end, out ulong len)) return Truncated($"the length of field {number}", tagAt);
                        if (len > (ulong)(end - pos)) return new Failure($"field {number} at byte {tagAt} declares {len} bytes but only {end - pos} remain (truncated message)");
                        start = pos;
                        stop = pos + (int)len;
                        pos = stop;
                        break;
                    case 3:
                        if (SkipGroup(data, ref pos, end, number) is { } g) return g;
                        continue; // groups are never schema fields here
                    default:
                        return new Failure($"invalid wire type {wire} for field {number} at byte {tagAt}");
                }
                if (slot >= 0) t.Add(slot, wire, value, start, stop);
            }
            return null;
        }

        private static Failure? SkipGroup(ReadOnlySpan<byte> data, ref int pos, int end, ulong group)
        {
            while (pos < end)
            {
                int at = pos;
                if (!Varint(data, ref pos, end, out ulong tag)) return Truncated("a field tag", at);
                int wire = (int)(tag & 7);
                switch (wire)
                {
                    case 0: if (!Varint(data, ref pos, end, out _)) return Truncated("a varint", at); break;
                    case 1: if (end - pos < 8) return Truncated("8 bytes", at); pos += 8; break;
                    case 5: if (end - pos < 4) return Truncated("4 bytes", at); pos += 4; break;
                    case 2:
                        if (!Varint(data, ref pos, end, out ulong len) || len > (ulong)(end - pos)) return Truncated("a length-delimited field", at);
                        pos += (int)len;
                        break;
                    case 3: if (SkipGroup(data, ref pos, end, tag >> 3) is { } f) return f; break;
                    case 4:
                        return tag >> 3 == group ? null : new Failure($"group {group} ends with the end tag of group {tag >> 3} at byte {at}");
                    default: return new Failure($"invalid wire type {wire} at byte {at}");
                }
            }
            return new Failure($"group {group} has no end tag (truncated message)");
        }

        private static Failure Truncated(string what, int at) => new($"truncated message: {what} at byte {at} runs past the end");

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static bool Varint(ReadOnlySpan<byte> data, ref int pos, int end, out ulong value)
        {
            if (pos < end && data[pos] < 0x80)
            {
                value = data[pos++];
                return true;
            }
            return VarintSlow(data, ref pos, end, out value);
        }

        private static bool VarintSlow(ReadOnlySpan<byte> data, ref int pos, int end, out ulong value)
        {
            value = 0;
            for (int shift = 0; shift < 70 && pos < end; shift += 7)
            {
                byte b = data[pos++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return true;
            }
            return false;
        }

        /// <summary>Appends one message value (struct, timestamp or wrapped scalar) from the scanned table.</summary>
        private Failure? Emit(ReadOnlySpan<byte> data, Node node, Table t, ColumnBuilder b)
        {
            switch (node.Message.WellKnown)
            {
                case ProtoWellKnown.Timestamp:
                {
                    int si = node.Slot(1), ni = node.Slot(2);
                    bool hasS = si >= 0 && t.First[si] >= 0, hasN = ni >= 0 && t.First[ni] >= 0;
                    if (hasS && t.Items[t.Last[si]].Wire != 0 || hasN && t.Items[t.Last[ni]].Wire != 0)
                        return new Failure("google.protobuf.Timestamp fields must be varints");
                    long seconds = hasS ? (long)t.Items[t.Last[si]].Value : 0;
                    long nanos = hasN ? (int)t.Items[t.Last[ni]].Value : 0;
                    if (seconds is < -62_135_596_800 or > 253_402_300_799 || nanos is < 0 or > 999_999_999)
                        return new Failure($"timestamp {seconds}s {nanos}ns is outside 0001-01-01..9999-12-31");
                    Unsafe.As<PrimitiveBuilder<long>>(b).Append(seconds * 1_000_000 + nanos / 1000);
                    return null;
                }
                case ProtoWellKnown.Wrapper:
                {
                    var f = node.Fields[0];
                    return t.First[0] < 0 ? AppendDefault(f, b) : AppendScalar(data, f, b, in t.Items[t.Last[0]])?.At(".value");
                }
            }
            var sb = Unsafe.As<StructBuilder>(b);
            var fields = node.Fields;
            for (int i = 0; i < fields.Length; i++)
            {
                var f = fields[i];
                var child = sb.Children[i];
                int first = t.First[i];
                Failure? failure;
                if (f.Repeated) failure = AppendRepeated(data, node.Children[i], f, Unsafe.As<ListBuilder>(child), t, first);
                else if (first < 0)
                {
                    if (f.HasPresence || f.Kind == ProtoKind.Message) child.AppendNull();
                    else AppendDefault(f, child);
                    continue;
                }
                else if (f.Kind == ProtoKind.Message) failure = AppendMessage(data, node.Children[i]!, child, t, first);
                else failure = AppendScalar(data, f, child, in t.Items[t.Last[i]]);
                if (failure is not null) return failure.At("." + f.Name);
            }
            sb.EndStruct();
            return null;
        }

        /// <summary>A singular message: every occurrence scanned into one table (merge), then emitted.</summary>
        private Failure? AppendMessage(ReadOnlySpan<byte> data, Node child, ColumnBuilder b, Table parent, int first)
        {
            var t = _tables[child.Id];
            t.Reset();
            for (int o = first; o >= 0; o = parent.Items[o].Next)
            {
                ref var occ = ref parent.Items[o];
                if (occ.Wire != 2) return WrongWire(child.Message.FullName, occ.Wire);
                if (Scan(data, occ.Start, occ.End, child, t) is { } f) return f;
            }
            return Emit(data, child, t, b);
        }

        private Failure? AppendRepeated(ReadOnlySpan<byte> data, Node? child, ProtoField f, ListBuilder lb, Table parent, int first)
        {
            int k = 0;
            for (int o = first; o >= 0; o = parent.Items[o].Next, k++)
            {
                ref var occ = ref parent.Items[o];
                Failure? failure;
                if (child is not null)
                {
                    if (occ.Wire != 2) return WrongWire(child.Message.FullName, occ.Wire).At($"[{k}]");
                    var t = _tables[child.Id];
                    t.Reset();
                    failure = Scan(data, occ.Start, occ.End, child, t) ?? Emit(data, child, t, lb.Child);
                }
                else if (occ.Wire == 2 && f.Kind is not (ProtoKind.String or ProtoKind.Bytes))
                    failure = AppendPacked(data, f, lb.Child, occ.Start, occ.End);
                else failure = AppendScalar(data, f, lb.Child, in occ);
                if (failure is not null) return failure.At($"[{k}]");
            }
            lb.EndList();
            return null;
        }

        private static Failure? AppendPacked(ReadOnlySpan<byte> data, ProtoField f, ColumnBuilder b, int pos, int end)
        {
            int wire = WireOf(f.Kind);
            var o = new Occurrence { Wire = wire };
            while (pos < end)
            {
                int at = pos;
                switch (wire)
                {
                    case 0:
                        if (!Varint(data, ref pos, end, out o.Value)) return Truncated("a packed varint", at);
                        break;
                    case 1:
                        if (end - pos < 8) return Truncated("a packed 8-byte value", at);
                        o.Value = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(pos, 8));
                        pos += 8;
                        break;
                    default:
                        if (end - pos < 4) return Truncated("a packed 4-byte value", at);
                        o.Value = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(pos, 4));
                        pos += 4;
                        break;
                }
                if (AppendScalar(data, f, b, in o) is { } failure) return failure;
            }
            return null;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int WireOf(ProtoKind kind) => kind switch
        {
            ProtoKind.Double or ProtoKind.Fixed64 or ProtoKind.SFixed64 => 1,
            ProtoKind.Float or ProtoKind.Fixed32 or ProtoKind.SFixed32 => 5,
            ProtoKind.String or ProtoKind.Bytes or ProtoKind.Message => 2,
            _ => 0,
        };

        private static Failure WrongWire(string what, int wire) =>
            new($"{what} arrived with wire type {wire} ({WireName(wire)}); the schema says {WireName(WireOf(ProtoKind.Message))}");

        private static string WireName(int wire) => wire switch
        {
            0 => "varint", 1 => "64-bit", 2 => "length-delimited", 5 => "32-bit", _ => "group",
        };

        [MethodImpl(MethodImplOptions.NoInlining)] // keeps its error formatting out of the frames of the hot loops
        private static Failure? AppendScalar(ReadOnlySpan<byte> data, ProtoField f, ColumnBuilder b, in Occurrence o)
        {
            var kind = f.Kind;
            if (o.Wire != WireOf(kind))
                return new Failure($"{kind.ToString().ToLowerInvariant()} field number {f.Number} arrived with wire type {o.Wire} ({WireName(o.Wire)}); expected {WireName(WireOf(kind))}");
            ulong v = o.Value;
            switch (kind)
            {
                case ProtoKind.Int64 or ProtoKind.SFixed64: Unsafe.As<PrimitiveBuilder<long>>(b).Append((long)v); return null;
                case ProtoKind.Int32 or ProtoKind.Enum: Unsafe.As<PrimitiveBuilder<long>>(b).Append((int)v); return null;
                case ProtoKind.UInt32 or ProtoKind.Fixed32: Unsafe.As<PrimitiveBuilder<long>>(b).Append((uint)v); return null;
                case ProtoKind.SInt32: Unsafe.As<PrimitiveBuilder<long>>(b).Append((int)((uint)v >> 1) ^ -(int)(v & 1)); return null;
                case ProtoKind.SInt64: Unsafe.As<PrimitiveBuilder<long>>(b).Append((long)(v >> 1) ^ -(long)(v & 1)); return null;
                case ProtoKind.SFixed32: Unsafe.As<PrimitiveBuilder<long>>(b).Append((int)(uint)v); return null;
                case ProtoKind.UInt64 or ProtoKind.Fixed64:
                    if (v > long.MaxValue) return new Failure($"{kind.ToString().ToLowerInvariant()} value {v} does not fit int64");
                    Unsafe.As<PrimitiveBuilder<long>>(b).Append((long)v);
                    return null;
                case ProtoKind.Bool: Unsafe.As<BoolBuilder>(b).Append(v != 0); return null;
                case ProtoKind.Double: Unsafe.As<PrimitiveBuilder<double>>(b).Append(BitConverter.UInt64BitsToDouble(v)); return null;
                case ProtoKind.Float: Unsafe.As<PrimitiveBuilder<double>>(b).Append(BitConverter.UInt32BitsToSingle((uint)v)); return null;
                case ProtoKind.String:
                {
                    var s = data[o.Start..o.End];
                    if (!Utf8.IsValid(s)) return new Failure("string is not valid UTF-8");
                    Unsafe.As<BinaryBuilder>(b).Append(s);
                    return null;
                }
                case ProtoKind.Bytes: Unsafe.As<BinaryBuilder>(b).Append(data[o.Start..o.End]); return null;
                default: throw new InvalidOperationException(kind.ToString());
            }
        }

        private static Failure? AppendDefault(ProtoField f, ColumnBuilder b)
        {
            switch (f.Kind)
            {
                case ProtoKind.Double or ProtoKind.Float: Unsafe.As<PrimitiveBuilder<double>>(b).Append(0); break;
                case ProtoKind.Bool: Unsafe.As<BoolBuilder>(b).Append(false); break;
                case ProtoKind.String or ProtoKind.Bytes: Unsafe.As<BinaryBuilder>(b).Append([]); break;
                default: Unsafe.As<PrimitiveBuilder<long>>(b).Append(0); break;
            }
            return null;
        }
    }
}
