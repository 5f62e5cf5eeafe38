namespace Sluice.Pipeline.Contracts;

/// <summary>One message's claim on a deduplication key (already namespaced per resolver).</summary>
/// <param name="Key">The resolver-namespaced key.</param>
/// <param name="Position">The message's source position (topic/partition/offset, or its message id).</param>
/// <param name="MessageMicros">The message timestamp (UTC microseconds); windows are measured in message time.</param>
/// <param name="WindowMicros">How long a claim holds, in message time.</param>
public readonly record struct DedupClaim(string Key, string Position, long MessageMicros, long WindowMicros);

/// <summary>
/// A deduplication store that survives redelivery. Contract, the same for every implementation (a reference-model test
/// runs on each):
/// <list type="bullet">
/// <item>A key remembers the source position and the message time of the message that claimed it.</item>
/// <item>The same key from the claimant's own position is a redelivery: the message goes on (processed again).</item>
/// <item>The same key from another position whose message time lies within the window of the held claim (before or
/// after it) is a duplicate. The window is measured in message time, never in wall-clock time, so that replaying an
/// old recording decides as the live run did.</item>
/// <item>Outside the window the message goes on, and takes the key only if it is newer, so an old straggler never
/// shortens a newer claim's window (<see cref="DedupRule"/>).</item>
/// <item>Claims of one call apply in order, so duplicates inside a batch resolve within it.</item>
/// <item>Delivery: a claim is durable (or confirmed by the server) when <see cref="ClaimAsync"/> returns; the message is
/// acknowledged only after that.</item>
/// </list>
/// </summary>
public interface IDedupStore : IAsyncDisposable
{
    /// <summary>For each claim, true when the message goes on (new key, expired claim or redelivery), false when it is a duplicate.</summary>
    Task<bool[]> ClaimAsync(IReadOnlyList<DedupClaim> claims, CancellationToken cancellationToken = default);
}

/// <summary>The rule every store applies, given what the key currently holds.</summary>
public static class DedupRule
{
    /// <summary>
    /// Whether the message goes on, and whether its claim replaces the held one. The claimant's own position is a
    /// redelivery (goes on). Another position within the window of the held claim, before or after it in message time,
    /// is a duplicate. Outside the window the message goes on, and takes the key only if it is newer.
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
