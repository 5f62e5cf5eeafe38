namespace Sluice.Pipeline.Stores;

/// <summary>One message's claim on a deduplication key (already namespaced per resolver).</summary>
/// <param name="Key">The resolver-namespaced key.</param>
/// <param name="Position">The message's source position (topic/partition/offset).</param>
/// <param name="MessageMicros">The message timestamp; windows are measured in message time.</param>
/// <param name="WindowMicros">How long a claim holds.</param>
public readonly record struct DedupClaim(string Key, string Position, long MessageMicros, long WindowMicros);

/// <summary>
/// A deduplication store with the redelivery-safe semantics of DESIGN.md section 4: a key remembers the source
/// position of the first message that claimed it; the same key from another position within the window is a
/// duplicate, from the same position a redelivery (processed again). Claims of one call apply in order, so
/// duplicates inside a batch resolve within it. A claim must be durable before the message is acknowledged.
/// </summary>
public interface IDedupStore : IAsyncDisposable
{
    /// <summary>For each claim, true when the message goes on (new key, expired claim or redelivery), false when it is a duplicate.</summary>
    Task<bool[]> ClaimAsync(IReadOnlyList<DedupClaim> claims, CancellationToken cancellationToken = default);
}

/// <summary>The rule every store applies, given what the key currently holds.</summary>
internal static class DedupRule
{
    /// <summary>
    /// Whether the message goes on, and whether its claim replaces the held one. The claimant's own position is a
    /// redelivery (goes on). Another position within the window of the held claim, before or after it in message time,
    /// is a duplicate. Outside the window the message goes on, and takes the key only if it is newer, so an old
    /// straggler never shortens a newer claim's window.
    /// </summary>
    public static (bool Keep, bool Replace) Decide(string heldPosition, long claimedAtMicros, DedupClaim claim)
    {
        if (heldPosition == claim.Position) return (true, false);
        if (Math.Abs(claim.MessageMicros - claimedAtMicros) < claim.WindowMicros) return (false, false);
        return (true, claim.MessageMicros > claimedAtMicros);
    }
}

/// <summary>
/// When an embedded store may forget claims, so that a long run's store does not grow with every key it ever saw. A
/// claim made at message time T with window W decides nothing for a message at time t with |t - T| >= W: once the newest
/// message seen is 2W past T, the claim matters only to messages more than W behind the stream, which are treated as new.
/// Pruning runs each time the stream advances half the largest window seen.
/// </summary>
internal sealed class DedupPruning
{
    private long _newest = long.MinValue, _window, _lastPrune = long.MinValue;

    /// <summary>Notes the claims of a call; returns the horizon (claims made before it may go) when a prune is due, else null.</summary>
    public long? Observe(IReadOnlyList<DedupClaim> claims)
    {
        foreach (var c in claims)
        {
            if (c.MessageMicros > _newest) _newest = c.MessageMicros;
            if (c.WindowMicros > _window) _window = c.WindowMicros;
        }
        if (_window <= 0 || _newest == long.MinValue) return null;
        if (_lastPrune == long.MinValue) _lastPrune = _newest;
        if (_newest - _lastPrune < _window / 2) return null;
        _lastPrune = _newest;
        return _newest - 2 * _window;
    }
}
