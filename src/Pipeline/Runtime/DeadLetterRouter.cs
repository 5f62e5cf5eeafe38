using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Execution;

namespace Sluice.Pipeline.Runtime;

/// <summary>
/// The dead-letter target of one graph: a resolver's failed messages go to its source's dead-letter target when the
/// source names one (<c>dead_letter_queue_topic</c>) and its kind can write it, else (and in a replay) to the dead-letter
/// file. Targets are opened on first use and disposed with the graph.
/// </summary>
internal sealed class DeadLetterRouter(Connectors connectors, TargetContext context, string path, bool replay) : IBatchTarget
{
    private readonly Dictionary<string, IBatchTarget?> _bySource = new(StringComparer.Ordinal);
    private IBatchTarget? _file;

    public Task<int> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken)
    {
        var source = plan.Source;
        if (!_bySource.TryGetValue(source.Name, out var target))
            _bySource[source.Name] = target = replay || !connectors.Targets.TryGetValue(source.Kind.Value, out var kind) ? null : kind.OpenDeadLetters(source, context);
        return (target ?? (_file ??= connectors.Files.OpenDeadLetters(path))).WriteAsync(plan, batch, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var target in _bySource.Values) if (target is not null) await target.DisposeAsync();
        if (_file is not null) await _file.DisposeAsync();
    }
}
