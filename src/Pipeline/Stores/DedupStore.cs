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
    /// <summary>Whether an existing claim (position, claimed at) still holds against <paramref name="claim"/> (a claim holds for its window, in message time).</summary>
    public static bool Holds(long claimedAtMicros, DedupClaim claim) =>
        claim.MessageMicros >= claimedAtMicros && claim.MessageMicros - claimedAtMicros < claim.WindowMicros;
}
