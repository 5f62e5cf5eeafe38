namespace Sluice.Pipeline.Stores;

/// <summary>The deduplication store of one process's lifetime (<see cref="IDedupStore"/>); nothing survives a restart.</summary>
public sealed class InMemoryDedupStore : IDedupStore
{
    private readonly Dictionary<string, (string Position, long ClaimedAtMicros)> _keys = new(StringComparer.Ordinal);

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
    public Task<bool[]> ClaimAsync(IReadOnlyList<DedupClaim> claims, CancellationToken cancellationToken = default) =>
        Task.FromResult(claims.Select(Claim).ToArray());

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
