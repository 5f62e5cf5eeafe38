using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;
using Sluice.Pipeline.Contracts;

namespace Sluice.Clients;

/// <summary>
/// A producer for one topic on librdkafka's own API: each record is one <c>rd_kafka_produceva</c> call that copies its
/// key, value and headers from the caller's arrays, and the delivery reports of a batch count down one object. Confluent's
/// typed producer allocated a message, a delivery handler, a GC handle, a marshalled report, an error, a topic name and
/// its offset per record (a third of the bytes a Kafka-to-Redis run allocated, its delivery thread a tenth of its CPU).
/// The client's settings, log lines and errors are the same as Confluent's: the configuration is passed to librdkafka
/// as Confluent would pass it.
/// </summary>
internal sealed unsafe class KafkaProducer : IDisposable
{
    private const int QueueFull = -184; // RD_KAFKA_RESP_ERR__QUEUE_FULL
    private const int Fatal = -150;     // RD_KAFKA_RESP_ERR__FATAL
    private readonly KafkaLog _log;
    private readonly IntPtr _rk;
    private readonly IntPtr _topic;
    private readonly string _topicName;
    private readonly GCHandle _self;
    private readonly Thread _poller;
    private volatile bool _closing;
    private int _disposed;

    /// <summary>A producer with <paramref name="config"/> (Confluent's <c>dotnet.</c> keys left out) writing to <paramref name="topic"/>.</summary>
    public KafkaProducer(IEnumerable<KeyValuePair<string, string>> config, string topic, KafkaLog log)
    {
        _log = log;
        _topicName = topic;
        var conf = Native.ConfNew();
        var error = stackalloc byte[512];
        foreach (var (key, value) in config)
        {
            if (key.StartsWith("dotnet.", StringComparison.Ordinal) || value is null) continue;
            if (Native.ConfSet(conf, Utf8(key), Utf8(value), error, 512) != 0)
            {
                Native.ConfDestroy(conf);
                throw new ArgumentException($"kafka producer setting {key}: {Marshal.PtrToStringUTF8((IntPtr)error)}");
            }
        }
        _self = GCHandle.Alloc(this);
        Native.ConfSetOpaque(conf, GCHandle.ToIntPtr(_self));
        Native.ConfSetDrMsgCb(conf, &OnDelivery);
        Native.ConfSetLogCb(conf, &OnLog);
        Native.ConfSetErrorCb(conf, &OnError);
        _rk = Native.New(0, conf, error, 512); // takes the configuration, also when it fails
        if (_rk == IntPtr.Zero)
        {
            _self.Free();
            throw new ArgumentException($"kafka producer: {Marshal.PtrToStringUTF8((IntPtr)error)}");
        }
        _topic = Native.TopicNew(_rk, Utf8(topic), IntPtr.Zero);
        if (_topic == IntPtr.Zero)
        {
            Native.Destroy(_rk);
            _self.Free();
            throw new ArgumentException($"kafka producer: topic '{topic}' cannot be written: {Marshal.PtrToStringUTF8(Native.Err2Str(Native.LastError()))}");
        }
        _poller = new Thread(Poll) { IsBackground = true, Name = "kafka producer" };
        _poller.Start();
    }

    /// <summary>
    /// Hands every record to librdkafka (waiting while its queue is full) and returns a task that completes once the broker
    /// acknowledged all of them, or fails with the first delivery error. Records of one producer keep their order.
    /// </summary>
    public Task ProduceAsync(IReadOnlyList<OutRecord> records)
    {
        var batch = new Batch(_topicName);
        var opaque = GCHandle.ToIntPtr(batch.Handle);
        // Headers are pinned once per header list (sink records share one) and only for the calls: librdkafka copies the
        // key, the value and the headers (RD_KAFKA_MSG_F_COPY).
        var pins = new List<GCHandle>();
        IReadOnlyList<KeyValuePair<string, byte[]>>? pinnedFrom = null;
        var headers = new List<Vu>();
        Span<Vu> vus = stackalloc Vu[5 + 16];
        try
        {
            foreach (var record in records)
            {
                if (!ReferenceEquals(record.Headers, pinnedFrom))
                {
                    pinnedFrom = record.Headers;
                    headers.Clear();
                    if (5 + record.Headers.Count > vus.Length) vus = new Vu[5 + record.Headers.Count];
                    foreach (var (name, value) in record.Headers)
                    {
                        var n = GCHandle.Alloc(Utf8(name), GCHandleType.Pinned);
                        pins.Add(n);
                        var v = GCHandle.Alloc(value, GCHandleType.Pinned);
                        pins.Add(v);
                        headers.Add(Vu.Header(n.AddrOfPinnedObject(), v.AddrOfPinnedObject(), value.Length));
                    }
                }
                Interlocked.Increment(ref batch.Pending);
                while (true)
                {
                    int err = Produce(vus, record.Key, record.Value, headers, opaque);
                    if (err == 0) break;
                    if (err != QueueFull)
                    {
                        batch.Report(err);
                        break;
                    }
                    Native.Poll(_rk, 10);
                }
            }
        }
        finally
        {
            foreach (var pin in pins) pin.Free();
        }
        batch.Report(0); // the count started at one, so that an early report cannot finish the batch before the last record
        return batch.Done.Task;
    }

    private int Produce(Span<Vu> span, byte[]? key, byte[]? value, List<Vu> headers, IntPtr opaque)
    {
        int n = 0;
        byte empty = 0; // an empty key or value is sent as empty, not as null: its pointer must not be null
        fixed (Vu* vus = span)
        fixed (byte* k = key, v = value)
        {
            vus[n++] = Vu.Pointer(2, _topic);                       // RD_KAFKA_VTYPE_RKT
            vus[n++] = Vu.Int(7, 0x2);                              // RD_KAFKA_VTYPE_MSGFLAGS: RD_KAFKA_MSG_F_COPY
            vus[n++] = Vu.Memory(4, value is null ? IntPtr.Zero : value.Length == 0 ? (IntPtr)(&empty) : (IntPtr)v, value?.Length ?? 0); // RD_KAFKA_VTYPE_VALUE
            if (key is not null) vus[n++] = Vu.Memory(5, key.Length == 0 ? (IntPtr)(&empty) : (IntPtr)k, key.Length); // RD_KAFKA_VTYPE_KEY
            vus[n++] = Vu.Pointer(6, opaque);                       // RD_KAFKA_VTYPE_OPAQUE
            foreach (var header in headers) vus[n++] = header;     // RD_KAFKA_VTYPE_HEADER
            var error = Native.Produceva(_rk, vus, (nuint)n);
            if (error == IntPtr.Zero) return 0;
            int code = Native.ErrorCode(error);
            Native.ErrorDestroy(error);
            return code;
        }
    }

    private void Poll()
    {
        while (!_closing) Native.Poll(_rk, 100);
    }

    /// <summary>Waits up to 30 s for what is queued to be delivered, then closes the client.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Native.Flush(_rk, 30_000);
        _closing = true;
        _poller.Join();
        Native.TopicDestroy(_topic);
        Native.Destroy(_rk);
        _self.Free();
    }

    /// <summary>One <see cref="ProduceAsync"/> call: the records not yet acknowledged and the first error.</summary>
    private sealed class Batch
    {
        public readonly TaskCompletionSource Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly GCHandle Handle;
        public int Pending = 1;
        private readonly string _topic;
        private int _error;

        public Batch(string topic)
        {
            _topic = topic;
            Handle = GCHandle.Alloc(this);
        }

        public void Report(int error)
        {
            if (error != 0) Interlocked.CompareExchange(ref _error, error, 0);
            if (Interlocked.Decrement(ref Pending) != 0) return;
            Handle.Free();
            if (_error == 0) Done.TrySetResult();
            else Done.TrySetException(new InvalidOperationException(
                $"producing to topic '{_topic}' failed: {Marshal.PtrToStringUTF8(Native.Err2Str(_error))}", new KafkaException((ErrorCode)_error)));
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnDelivery(IntPtr rk, IntPtr message, IntPtr opaque)
    {
        // rd_kafka_message_t: err at 0, _private (the record's opaque) at 64.
        var m = (byte*)message;
        var batch = GCHandle.FromIntPtr(*(IntPtr*)(m + 64)).Target as Batch;
        batch?.Report(*(int*)m);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnLog(IntPtr rk, int level, IntPtr facility, IntPtr line)
    {
        // Nothing may escape a callback from native code (it would end the process): a log line that cannot be written is dropped.
        try
        {
            Of(rk)?._log.Log(new LogMessage("", (SyslogLevel)level, Marshal.PtrToStringUTF8(facility) ?? "", Marshal.PtrToStringUTF8(line) ?? ""));
        }
        catch (Exception) { }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnError(IntPtr rk, int error, IntPtr reason, IntPtr opaque)
    {
        try
        {
            Of(rk)?._log.Error(new Error((ErrorCode)error, Marshal.PtrToStringUTF8(reason), error == Fatal));
        }
        catch (Exception) { }
    }

    private static KafkaProducer? Of(IntPtr rk)
    {
        var opaque = Native.Opaque(rk);
        return opaque == IntPtr.Zero ? null : GCHandle.FromIntPtr(opaque).Target as KafkaProducer;
    }

    private static byte[] Utf8(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    /// <summary>librdkafka's <c>rd_kafka_vu_t</c>: a type tag and a 64-byte union.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 72)]
    private struct Vu
    {
        [FieldOffset(0)] private int _type;
        [FieldOffset(8)] private IntPtr _a;
        [FieldOffset(16)] private IntPtr _b;
        [FieldOffset(24)] private IntPtr _c;

        public static Vu Pointer(int type, IntPtr p) => new() { _type = type, _a = p };
        public static Vu Int(int type, int i) => new() { _type = type, _a = i };
        public static Vu Memory(int type, IntPtr p, int size) => new() { _type = type, _a = p, _b = size };
        public static Vu Header(IntPtr name, IntPtr value, int size) => new() { _type = 9, _a = name, _b = value, _c = size };
    }

    /// <summary>The entry points used, bound once from the loaded librdkafka (<see cref="KafkaNative"/>).</summary>
    private static class Native
    {
        private static readonly IntPtr Lib = KafkaNative.Handle;
        private static IntPtr F(string name) => NativeLibrary.GetExport(Lib, name);

        private static readonly delegate* unmanaged[Cdecl]<IntPtr> confNew = (delegate* unmanaged[Cdecl]<IntPtr>)F("rd_kafka_conf_new");
        private static readonly delegate* unmanaged[Cdecl]<IntPtr, byte*, byte*, byte*, nuint, int> confSet = (delegate* unmanaged[Cdecl]<IntPtr, byte*, byte*, byte*, nuint, int>)F("rd_kafka_conf_set");
        private static readonly delegate* unmanaged[Cdecl]<IntPtr, void> confDestroy = (delegate* unmanaged[Cdecl]<IntPtr, void>)F("rd_kafka_conf_destroy");
        private static readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> confSetOpaque = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void>)F("rd_kafka_conf_set_opaque");
        private static readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> confSetDrMsgCb = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void>)F("rd_kafka_conf_set_dr_msg_cb");
        private static readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> confSetLogCb = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void>)F("rd_kafka_conf_set_log_cb");
        private static readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> confSetErrorCb = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void>)F("rd_kafka_conf_set_error_cb");
        private static readonly delegate* unmanaged[Cdecl]<int, IntPtr, byte*, nuint, IntPtr> rdNew = (delegate* unmanaged[Cdecl]<int, IntPtr, byte*, nuint, IntPtr>)F("rd_kafka_new");
        private static readonly delegate* unmanaged[Cdecl]<IntPtr, byte*, IntPtr, IntPtr> topicNew = (delegate* unmanaged[Cdecl]<IntPtr, byte*, IntPtr, IntPtr>)F("rd_kafka_topic_new");
        private static readonly delegate* unmanaged[Cdecl]<IntPtr, void> topicDestroy = (delegate* unmanaged[Cdecl]<IntPtr, void>)F("rd_kafka_topic_destroy");
        private static readonly delegate* unmanaged[Cdecl]<IntPtr, Vu*, nuint, IntPtr> produceva = (delegate* unmanaged[Cdecl]<IntPtr, Vu*, nuint, IntPtr>)F("rd_kafka_produceva");
        private static readonly delegate* unmanaged[Cdecl]<IntPtr, int> errorCode = (delegate* unmanaged[Cdecl]<IntPtr, int>)F("rd_kafka_error_code");
        private static readonly delegate* unmanaged[Cdecl]<IntPtr, void> errorDestroy = (delegate* unmanaged[Cdecl]<IntPtr, void>)F("rd_kafka_error_destroy");
        private static readonly delegate* unmanaged[Cdecl]<IntPtr, int, int> poll = (delegate* unmanaged[Cdecl]<IntPtr, int, int>)F("rd_kafka_poll");
        private static readonly delegate* unmanaged[Cdecl]<IntPtr, int, int> flush = (delegate* unmanaged[Cdecl]<IntPtr, int, int>)F("rd_kafka_flush");
        private static readonly delegate* unmanaged[Cdecl]<IntPtr, void> destroy = (delegate* unmanaged[Cdecl]<IntPtr, void>)F("rd_kafka_destroy");
        private static readonly delegate* unmanaged[Cdecl]<int, IntPtr> err2Str = (delegate* unmanaged[Cdecl]<int, IntPtr>)F("rd_kafka_err2str");
        private static readonly delegate* unmanaged[Cdecl]<int> lastError = (delegate* unmanaged[Cdecl]<int>)F("rd_kafka_last_error");
        private static readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr> opaque = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr>)F("rd_kafka_opaque");

        public static IntPtr ConfNew() => confNew();
        public static int ConfSet(IntPtr conf, byte[] name, byte[] value, byte* error, nuint size)
        {
            fixed (byte* n = name, v = value) return confSet(conf, n, v, error, size);
        }
        public static void ConfDestroy(IntPtr conf) => confDestroy(conf);
        public static void ConfSetOpaque(IntPtr conf, IntPtr value) => confSetOpaque(conf, value);
        public static void ConfSetDrMsgCb(IntPtr conf, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr, void> cb) => confSetDrMsgCb(conf, (IntPtr)cb);
        public static void ConfSetLogCb(IntPtr conf, delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr, IntPtr, void> cb) => confSetLogCb(conf, (IntPtr)cb);
        public static void ConfSetErrorCb(IntPtr conf, delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr, IntPtr, void> cb) => confSetErrorCb(conf, (IntPtr)cb);
        public static IntPtr New(int type, IntPtr conf, byte* error, nuint size) => rdNew(type, conf, error, size);
        public static IntPtr TopicNew(IntPtr rk, byte[] topic, IntPtr conf)
        {
            fixed (byte* t = topic) return topicNew(rk, t, conf);
        }
        public static void TopicDestroy(IntPtr rkt) => topicDestroy(rkt);
        public static IntPtr Produceva(IntPtr rk, Vu* vus, nuint count) => produceva(rk, vus, count);
        public static int ErrorCode(IntPtr error) => errorCode(error);
        public static void ErrorDestroy(IntPtr error) => errorDestroy(error);
        public static int Poll(IntPtr rk, int timeoutMs) => poll(rk, timeoutMs);
        public static int Flush(IntPtr rk, int timeoutMs) => flush(rk, timeoutMs);
        public static void Destroy(IntPtr rk) => destroy(rk);
        public static IntPtr Err2Str(int error) => err2Str(error);
        public static IntPtr Opaque(IntPtr rk) => opaque(rk);
        public static int LastError() => lastError();
    }
}
