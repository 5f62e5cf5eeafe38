using Sluice.Pipeline.Contracts;

namespace Sluice.Sinks;

/// <summary>
/// The deduplication store of one process's lifetime (<see cref="IDedupStore"/>); nothing survives a restart. Claims the
/// stream has left behind are forgotten (<see cref="DedupPruning"/>), so memory follows the window, not the run.
/// </summary>
internal sealed class InMemoryDedupStore : IDedupStore
{
    private readonly Dictionary<string, (string Position, long ClaimedAtMicros)> _keys = new(StringComparer.Ordinal);
    private readonly DedupPruning _pruning = new();

    /// <summary>Keys held now.</summary>
    internal int HeldKeys => _keys.Count;

    private bool Claim(DedupClaim claim)
    {
        if (!_keys.TryGetValue(claim.Key, out var held))
        {
            _keys[claim.Key] = (claim.Position, claim.MessageMicros);
            return true;
        }
        var (keep, replace) = DedupRule.Decide(held.Position, held.ClaimedAtMicros, claim);
        if (replace) _keys[claim.Key] = (claim.Position, claim.MessageMicros);
        return keep;
    }

    /// <inheritdoc/>
    public Task<bool[]> ClaimAsync(IReadOnlyList<DedupClaim> claims, CancellationToken cancellationToken = default)
    {
        var result = claims.Select(Claim).ToArray();
        if (_pruning.Observe(claims) is { } horizon)
            foreach (var (key, held) in _keys.ToList())
                if (held.ClaimedAtMicros < horizon) _keys.Remove(key);
        return Task.FromResult(result);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
