using System.Runtime.InteropServices;
using System.Text;
using Sluice.Clients;

namespace Sluice.TestSupport;

/// <summary>
/// librdkafka's built-in mock cluster: a real Kafka-protocol broker on loopback, inside the native library that ships
/// with Confluent.Kafka (DESIGN.md section 8). Tests and benchmarks start one, create topics with the mock API (the
/// admin client's CreateTopics times out against it), and point any client at <see cref="BootstrapServers"/>.
/// The broker lives as long as this object; it keeps about 5 MB per partition.
/// </summary>
public sealed unsafe class KafkaMockCluster : IDisposable
{
    private readonly IntPtr _client;
    private readonly IntPtr _cluster;
    private readonly delegate* unmanaged<IntPtr, byte*, int, int, int> _topicCreate;
    private readonly delegate* unmanaged<IntPtr, void> _clusterDestroy;
    private readonly delegate* unmanaged<IntPtr, void> _destroy;
    private readonly delegate* unmanaged<IntPtr, int, int> _brokerDown;
    private readonly delegate* unmanaged<IntPtr, int, int> _brokerUp;
    private bool _disposed;

    /// <summary>Starts a cluster of <paramref name="brokers"/> brokers.</summary>
    public KafkaMockCluster(int brokers = 1)
    {
        var lib = KafkaNative.Handle;
        T Export<T>(string name) where T : unmanaged
        {
            var p = NativeLibrary.GetExport(lib, name);
            return *(T*)&p;
        }
        var confNew = Export<IntPtr>("rd_kafka_conf_new");
        var confSet = Export<IntPtr>("rd_kafka_conf_set");
        var kafkaNew = Export<IntPtr>("rd_kafka_new");
        var clusterNew = Export<IntPtr>("rd_kafka_mock_cluster_new");
        var bootstraps = Export<IntPtr>("rd_kafka_mock_cluster_bootstraps");
        var rebalanceDelay = Export<IntPtr>("rd_kafka_mock_group_initial_rebalance_delay_ms");
        _topicCreate = (delegate* unmanaged<IntPtr, byte*, int, int, int>)Export<IntPtr>("rd_kafka_mock_topic_create");
        _clusterDestroy = (delegate* unmanaged<IntPtr, void>)Export<IntPtr>("rd_kafka_mock_cluster_destroy");
        _destroy = (delegate* unmanaged<IntPtr, void>)Export<IntPtr>("rd_kafka_destroy");
        _brokerDown = (delegate* unmanaged<IntPtr, int, int>)Export<IntPtr>("rd_kafka_mock_broker_set_down");
        _brokerUp = (delegate* unmanaged<IntPtr, int, int>)Export<IntPtr>("rd_kafka_mock_broker_set_up");

        var conf = ((delegate* unmanaged<IntPtr>)confNew)();
        var err = stackalloc byte[512];
        fixed (byte* name = "log_level\0"u8, value = "3\0"u8)
            ((delegate* unmanaged<IntPtr, byte*, byte*, byte*, nint, int>)confSet)(conf, name, value, err, 512);
        _client = ((delegate* unmanaged<int, IntPtr, byte*, nint, IntPtr>)kafkaNew)(0 /* producer */, conf, err, 512);
        if (_client == IntPtr.Zero) throw new InvalidOperationException($"librdkafka: could not create the mock cluster's client: {Marshal.PtrToStringUTF8((IntPtr)err)}");
        _cluster = ((delegate* unmanaged<IntPtr, int, IntPtr>)clusterNew)(_client, brokers);
        if (_cluster == IntPtr.Zero) throw new InvalidOperationException("librdkafka: could not start the mock cluster");
        BootstrapServers = Marshal.PtrToStringUTF8(((delegate* unmanaged<IntPtr, IntPtr>)bootstraps)(_cluster))!;
        // Consumers of a new group join at once instead of after the default 3 s delay.
        ((delegate* unmanaged<IntPtr, int, int>)rebalanceDelay)(_cluster, 0);
    }

    /// <summary>The address clients connect to, e.g. <c>127.0.0.1:38123</c>.</summary>
    public string BootstrapServers { get; }

    /// <summary>Creates <paramref name="topic"/> with <paramref name="partitions"/> partitions.</summary>
    public void CreateTopic(string topic, int partitions = 1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var name = Encoding.UTF8.GetBytes(topic + "\0");
        int rc;
        fixed (byte* p = name) rc = _topicCreate(_cluster, p, partitions, 1);
        if (rc != 0) throw new InvalidOperationException($"librdkafka mock cluster: creating topic '{topic}' failed with error {rc}");
    }

    /// <summary>
    /// Takes broker <paramref name="id"/> (1-based) down: its connections are closed and new ones refused until
    /// <see cref="SetBrokerUp"/>. The listener keeps its port, so clients reconnect to the same address.
    /// </summary>
    public void SetBrokerDown(int id = 1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_brokerDown(_cluster, id) != 0) throw new InvalidOperationException($"librdkafka mock cluster: broker {id} could not be set down");
    }

    /// <summary>Brings broker <paramref name="id"/> back up.</summary>
    public void SetBrokerUp(int id = 1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_brokerUp(_cluster, id) != 0) throw new InvalidOperationException($"librdkafka mock cluster: broker {id} could not be set up");
    }

    /// <summary>Stops the brokers.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _clusterDestroy(_cluster);
        _destroy(_client);
    }
}
