using Apache.Arrow.Ipc;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Execution;

namespace Sluice.Sinks;

/// <summary>The file targets of a run: sink files in a folder, and the dead-letter file.</summary>
internal sealed class FileTargets : IFileTargets
{
    /// <inheritdoc/>
    public IBatchTarget OpenSinks(string directory) => new FileSink(directory);

    /// <inheritdoc/>
    public IBatchTarget OpenDeadLetters(string path) => new DeadLetterTarget(new AppendedLines(path));
}

/// <summary>
/// Sink rows in files: <c>&lt;dir&gt;/&lt;target&gt;.jsonl</c> (one JSON object per row keyed by FQN, as
/// <see cref="SinkRecords"/> encodes it) for format json, <c>&lt;dir&gt;/&lt;target&gt;.arrows</c> (one Arrow IPC stream
/// holding every batch, FQN columns) for ipc_stream.
/// </summary>
internal sealed class FileSink(string directory) : IBatchTarget
{
    private readonly Dictionary<string, AppendedLines> _json = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (Stream Stream, ArrowStreamWriter Writer)> _arrows = new(StringComparer.Ordinal);

    public async Task<int> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken = default)
    {
        var sink = plan.Sink!;
        if (sink.Format == "json")
        {
            if (!_json.TryGetValue(sink.Target, out var lines)) _json[sink.Target] = lines = new AppendedLines(Path.Combine(directory, sink.Target + ".jsonl"));
            var records = SinkRecords.Encode(plan, batch);
            await lines.SendAsync(records, cancellationToken);
            return records.Count;
        }
        var (columns, _) = SinkRecords.Columns(plan, batch);
        if (!_arrows.TryGetValue(sink.Target, out var arrows))
        {
            Directory.CreateDirectory(directory);
            var stream = File.Create(Path.Combine(directory, sink.Target + ".arrows"));
            _arrows[sink.Target] = arrows = (stream, new ArrowStreamWriter(stream, columns.Schema));
        }
        await arrows.Writer.WriteRecordBatchAsync(columns, cancellationToken);
        await arrows.Stream.FlushAsync(cancellationToken);
        return 1;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var lines in _json.Values) await lines.DisposeAsync();
        foreach (var (stream, writer) in _arrows.Values)
        {
            await writer.WriteEndAsync();
            writer.Dispose();
            await stream.DisposeAsync();
        }
    }
}

/// <summary>
/// Records appended to a text file as lines (their values), each call's lines in one append so that several graphs may
/// share the file (the dead-letter file: a replayable JSONL recording). Headers are not kept: a dead letter is its line.
/// </summary>
internal sealed class AppendedLines(string path) : IRecordTransport
{
    private FileStream? _file;

    public bool CarriesHeaders => false;

    public async Task SendAsync(IReadOnlyList<OutRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0) return;
        using var text = new MemoryStream();
        foreach (var r in records)
        {
            text.Write(r.Value);
            text.WriteByte((byte)'\n');
        }
        if (_file is null)
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (dir is not null) Directory.CreateDirectory(dir);
            _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 1, useAsync: false);
        }
        await _file.WriteAsync(text.GetBuffer().AsMemory(0, (int)text.Length), cancellationToken);
        await _file.FlushAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_file is not null) await _file.DisposeAsync();
    }
}
