using System.Text;
using Apache.Arrow;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Parsing;
using Sluice.Kernels.Types;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Messages;

namespace Sluice.Pipeline.Execution;

/// <summary>
/// One resolver's work on one message batch, before any store: header filter and late-arrival drop (before parsing),
/// parse (kernel or parse expression), projection, the per-message nullability check of non-nullable features,
/// feature time, derived features and deduplication keys. Immutable and safe to run on several batches at once.
/// </summary>
internal sealed class ResolverStep
{
    private readonly ResolverPlan _plan;
    private readonly (byte[] Name, byte[][] Values)[] _filters;
    private readonly long? _lateMicros;
    private readonly ParseKernel? _parse;

    /// <summary>Prepares the step for <paramref name="plan"/>.</summary>
    public ResolverStep(ResolverPlan plan)
    {
        _plan = plan;
        _filters = plan.HeaderFiltersByName.Select(f => (Encoding.UTF8.GetBytes(f.Name), f.Values)).ToArray();
        if (plan.Source.Options.TryGetValue("late_arrival_deadline", out var late) && Durations.TryParse(late.Value) is { } d)
            _lateMicros = (long)(d.TotalMilliseconds * 1000);
        if (plan.Parse is null) _parse = plan.Protobuf is { } proto ? new ProtobufParseKernel(proto) : ParseKernel.For(plan.MessageType);
    }

    /// <summary>The plan this step runs.</summary>
    public ResolverPlan Plan => _plan;

    /// <summary>Runs the step; <paramref name="nowMicros"/> is the processing time that late arrival is measured against.</summary>
    public ResolvedBatch Process(MessageBatch batch, long nowMicros)
    {
        int n = batch.Length;
        var outcomes = new MessageOutcome[n];
        var reasons = new string?[n];

        // 1. Headers and lateness, on the raw columns: nothing is parsed or copied for messages that leave here.
        var kept = new List<int>(n);
        for (int i = 0; i < n; i++)
        {
            if (!HeadersMatch(batch, i)) outcomes[i] = MessageOutcome.Filtered;
            else if (_lateMicros is { } late && batch.Timestamp.GetValue(i)!.Value < nowMicros - late) outcomes[i] = MessageOutcome.Late;
            else kept.Add(i);
        }
        var values = kept.Count == n && batch.Value.Offset == 0 ? batch.Value : (BinaryArray)Take(batch.Value, kept, DataType.Bytes.WithNullable(true));

        // 2. Parse.
        IArrowArray root;
        List<int> rows; // message index of each row of root
        if (_parse is not null)
        {
            var parsed = _parse.Parse(values);
            foreach (var e in parsed.Errors)
            {
                outcomes[kept[e.Index]] = MessageOutcome.ParseFailed;
                reasons[kept[e.Index]] = $"parse failed at {batch.Position(kept[e.Index])}: {(e.Path.Length == 0 ? "" : $"field '{e.Path}': ")}{e.Reason}";
            }
            root = parsed.Column;
            rows = Enumerable.Range(0, parsed.RowCount).Select(r => kept[parsed.MessageIndex(r)]).ToList();
        }
        else
        {
            // A row the expression could not decode (e.g. malformed protobuf) failed to parse; a null it returned is a skip.
            var result = _plan.Parse!.Evaluate(values, out var errors);
            foreach (var e in errors)
            {
                outcomes[kept[e.Index]] = MessageOutcome.ParseFailed;
                reasons[kept[e.Index]] = $"parse failed at {batch.Position(kept[e.Index])}: {(e.Path.Length == 0 ? "" : $"field '{e.Path}': ")}{e.Reason}";
            }
            var good = new List<int>(kept.Count);
            for (int r = 0; r < result.Length; r++)
            {
                if (outcomes[kept[r]] == MessageOutcome.ParseFailed) continue;
                if (result.IsNull(r)) outcomes[kept[r]] = MessageOutcome.Skipped;
                else good.Add(r);
            }
            root = good.Count == result.Length ? result : Take(result, good, _plan.MessageType);
            rows = good.Select(r => kept[r]).ToList();
        }
        var parsedRows = (root, rows.ToArray());
        if (_plan.IncludeMessageEnvelope) root = WithEnvelope((StructArray)root, batch, rows);

        // 3. Project; a null reaching a non-nullable feature fails that message only.
        var columns = new List<(string Fqn, FeaturePlan Feature, IArrowArray Column)>();
        var failed = new bool[rows.Count];
        var objects = _plan.Rows is { } projection ? RunRows(projection, batch, rows, failed, outcomes, reasons) : null;
        foreach (var o in _plan.Outputs)
        {
            IReadOnlyList<Kernels.Parsing.ParseError> rowErrors = [];
            var column = objects is null ? o.Expression.Evaluate(root, out rowErrors) : RowColumn(_plan.Rows!, objects, o.Feature);
            foreach (var e in rowErrors)
                if (!failed[e.Index])
                {
                    failed[e.Index] = true;
                    outcomes[rows[e.Index]] = MessageOutcome.Failed;
                    reasons[rows[e.Index]] = $"feature '{o.Feature.Fqn}': {(e.Path.Length == 0 ? "" : $"field '{e.Path}': ")}{e.Reason} (message at {batch.Position(rows[e.Index])})";
                }
            if (!o.Feature.Type.IsNullable && column.NullCount > 0)
                for (int r = 0; r < rows.Count; r++)
                    if (column.IsNull(r) && !failed[r])
                    {
                        failed[r] = true;
                        outcomes[rows[r]] = MessageOutcome.Failed;
                        reasons[rows[r]] = $"feature '{o.Feature.Fqn}' is not nullable but its expression gave null for the message at {batch.Position(rows[r])}";
                    }
            columns.Add((o.Feature.Fqn, o.Feature, column));
        }
        var dedup = _plan.DeduplicationKey?.Evaluate(root);

        var goodRows = Enumerable.Range(0, rows.Count).Where(r => !failed[r]).ToList();
        bool all = goodRows.Count == rows.Count;
        var rowMessage = goodRows.Select(r => rows[r]).ToArray();
        foreach (var m in rowMessage) outcomes[m] = MessageOutcome.Written;

        var fields = new List<Field>();
        var arrays = new List<IArrowArray>();
        foreach (var (fqn, feature, column) in columns)
        {
            fields.Add(feature.Type.ToArrowField(fqn));
            arrays.Add(all ? column : Take(column, goodRows, feature.Type.WithNullable(true)));
        }
        AddDerived(fields, arrays, rowMessage.Length);
        fields.Add(DataType.Timestamp.ToArrowField("__ts__"));
        arrays.Add(FeatureTime(batch, rowMessage, fields, arrays));
        if (dedup is not null && !all) dedup = Take(dedup, goodRows, _plan.DeduplicationKey!.Type.WithNullable(true));
        var features = new RecordBatch(new Schema(fields, null), arrays, rowMessage.Length);
        return new ResolvedBatch(batch, outcomes, reasons, features, rowMessage, dedup, parsedRows);
    }

    /// <summary>A row resolver's function over each parsed message; a throw fails that message, a null skips it.</summary>
    private static object?[] RunRows(RowProjection projection, MessageBatch batch, List<int> rows, bool[] failed, MessageOutcome[] outcomes, string?[] reasons)
    {
        var objects = new object?[rows.Count];
        for (int r = 0; r < rows.Count; r++)
        {
            try
            {
                objects[r] = projection.Invoke(batch.Value.GetBytes(rows[r]));
                if (objects[r] is null)
                {
                    failed[r] = true; // leaves the written rows; counted as skipped
                    outcomes[rows[r]] = MessageOutcome.Skipped;
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failed[r] = true;
                outcomes[rows[r]] = MessageOutcome.Failed;
                reasons[rows[r]] = $"row resolver threw {e.GetType().Name} for the message at {batch.Position(rows[r])}: {e.Message}";
            }
        }
        return objects;
    }

    private static IArrowArray RowColumn(RowProjection projection, object?[] objects, FeaturePlan feature)
    {
        var type = feature.Type.WithNullable(true);
        var b = ColumnBuilder.Create(type, objects.Length);
        foreach (var o in objects) b.AppendRow(o is null ? null : projection.Get(o, feature.Name, type));
        return b.Build();
    }

    private bool HeadersMatch(MessageBatch batch, int i)
    {
        if (_filters.Length == 0) return true;
        var headers = (StructArray)batch.Headers.Values;
        var names = (StringArray)headers.Fields[0];
        var values = (BinaryArray)headers.Fields[1];
        int start = batch.Headers.ValueOffsets[i], end = batch.Headers.ValueOffsets[i + 1];
        foreach (var (name, accepted) in _filters)
        {
            bool found = false;
            for (int k = start; k < end && !found; k++)
            {
                if (!names.GetBytes(k).SequenceEqual(name)) continue;
                var v = values.GetBytes(k);
                foreach (var a in accepted)
                    if (v.SequenceEqual(a)) { found = true; break; }
            }
            if (!found) return false;
        }
        return true;
    }

    /// <summary>Derived features, computed over the row of the class's plain features (unmapped ones are null).</summary>
    private void AddDerived(List<Field> fields, List<IArrowArray> arrays, int length)
    {
        var derived = _plan.Class.Features.Where(f => f.Derived is not null).ToList();
        if (derived.Count == 0) return;
        var plain = _plan.Class.Features.Where(f => f.Derived is null).ToList();
        var children = plain.Select(f =>
        {
            int at = fields.FindIndex(x => x.Name == f.Fqn);
            return at >= 0 ? arrays[at] : ArrowValues.FromRows(new object?[length], f.Type.WithNullable(true));
        }).ToList();
        var rowType = DataType.StructOf(_plan.Class.Name, plain.Select(f => new StructField(f.Name, f.Type)));
        var row = new StructArray(rowType.ToArrow(), length, children, ArrowBuffer.Empty, 0, 0);
        foreach (var f in derived)
        {
            fields.Add(f.Type.WithNullable(true).ToArrowField(f.Fqn));
            arrays.Add(f.Derived!.Evaluate(row));
        }
    }

    /// <summary>The mapped feature-time feature where it is not null, else the message timestamp.</summary>
    private IArrowArray FeatureTime(MessageBatch batch, int[] rowMessage, List<Field> fields, List<IArrowArray> arrays)
    {
        var ft = _plan.Class.FeatureTime;
        int at = ft is null ? -1 : fields.FindIndex(f => f.Name == ft.Fqn);
        var mapped = at >= 0 ? (TimestampArray)arrays[at] : null;
        var b = new PrimitiveBuilder<long>(DataType.Timestamp, rowMessage.Length);
        var timestamps = batch.Timestamp.Values;
        for (int r = 0; r < rowMessage.Length; r++)
            b.Append(mapped is not null && !mapped.IsNull(r) ? mapped.Values[r] : timestamps[rowMessage[r]]);
        return b.Build();
    }

    private static StructArray WithEnvelope(StructArray root, MessageBatch batch, List<int> rows)
    {
        var env = DefinitionCompiler.Envelope;
        var children = new IArrowArray[]
        {
            Take(batch.Topic, rows, DataType.String), Take(batch.Partition, rows, DataType.Int64), Take(batch.Offset, rows, DataType.Int64),
            Take(batch.Timestamp, rows, DataType.Timestamp), Take(batch.Key, rows, DataType.Bytes.WithNullable(true)),
            Take(batch.Headers, rows, env.Fields[5].Type),
        };
        var envelope = new StructArray(env.ToArrow(), rows.Count, children, ArrowBuffer.Empty, 0, 0);
        var fields = ((Apache.Arrow.Types.StructType)root.Data.DataType).Fields.Append(env.ToArrowField("__envelope__")).ToList();
        return new StructArray(new Apache.Arrow.Types.StructType(fields), root.Length, root.Fields.Append(envelope), ArrowBuffer.Empty, 0, 0);
    }

    /// <summary>The rows at <paramref name="indices"/> of a column, as a new column of <paramref name="type"/>.</summary>
    internal static IArrowArray Take(IArrowArray source, IReadOnlyList<int> indices, DataType type)
    {
        if (source is Int32Array ints) // partitions become int64 in the envelope
            return ArrowValues.FromRows(indices.Select(i => (object?)(long)ints.Values[i]).ToList(), type);
        var b = ColumnBuilder.Create(type, indices.Count);
        foreach (var i in indices) b.AppendFrom(source, i);
        return b.Build();
    }
}
