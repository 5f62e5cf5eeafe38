namespace Sluice.Pipeline.Stores;

/// <summary>
/// The embedded deduplication store, with the redelivery-safe semantics of DESIGN.md section 4: a key remembers the
/// source position of the first message that claimed it; the same key from another position within the window is a
/// duplicate, from the same position a redelivery (processed again). Windows are measured in message time, so a
/// replay gives the same answer however fast it runs. Keys are namespaced per resolver by the caller.
/// </summary>
public sealed class InMemoryDedupStore
{
    private readonly Dictionary<string, (string Position, long ClaimedAtMicros)> _keys = new(StringComparer.Ordinal);

    /// <summary>True when the message is new (or a redelivery of the claimant); false when it is a duplicate.</summary>
    public bool Claim(string key, string position, long messageMicros, long windowMicros)
    {
        if (_keys.TryGetValue(key, out var held) && messageMicros - held.ClaimedAtMicros < windowMicros && messageMicros >= held.ClaimedAtMicros)
            return held.Position == position;
        _keys[key] = (position, messageMicros);
        return true;
    }
}
