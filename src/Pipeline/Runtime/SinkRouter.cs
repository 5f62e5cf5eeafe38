using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Execution;

namespace Sluice.Pipeline.Runtime;

/// <summary>
/// The sink target of one graph: each resolver's rows go to its sink target's kind (a topic, a stream, a file), to an
/// in-process chain when a resolver of the run reads the target, or, in a replay, to the sink files. Targets are opened
/// on first use and disposed with the graph.
/// </summary>
internal sealed class SinkRouter(CompiledDefinitions definitions, Connectors connectors, TargetContext context,
    IReadOnlyDictionary<string, InProcessChain> chains, bool replay) : IBatchTarget
{
    private readonly Dictionary<string, IBatchTarget> _open = new(StringComparer.Ordinal);
    private IBatchTarget? _files;

    public Task<int> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken) =>
        Target(plan.Sink!.Target).WriteAsync(plan, batch, cancellationToken);

    public int WritesInFlight(ResolverPlan plan) => Target(plan.Sink!.Target).WritesInFlight(plan);

    private IBatchTarget Target(string name)
    {
        if (chains.TryGetValue(name, out var chain)) return chain; // the run owns the chain, not this graph
        if (replay) return _files ??= connectors.Files.OpenSinks(context.SinkDirectory);
        if (_open.TryGetValue(name, out var open)) return open;
        var source = definitions.Sources[name];
        // The compiler checked that the target's kind has a writer.
        return _open[name] = connectors.Targets[source.Kind.Value].OpenSink(source, context);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var target in _open.Values) await target.DisposeAsync();
        if (_files is not null) await _files.DisposeAsync();
    }
}
