using System.Buffers;
using Apache.Arrow.Memory;

namespace Sluice.Pipeline.Messages;

/// <summary>
/// An Arrow allocator on the managed heap. Arrow's default allocator takes native memory and reports it with
/// <c>GC.AddMemoryPressure</c>, which at stream rates induces a gen-2 collection every few batches (each followed by
/// the array pools' trimming): a replay spent a third of its CPU there. Message batches are short-lived garbage that
/// gen 0 collects cheaply; they belong on the managed heap.
/// </summary>
internal sealed class ManagedMemoryAllocator : MemoryAllocator
{
    /// <summary>The one instance.</summary>
    public static ManagedMemoryAllocator Shared { get; } = new();

    private ManagedMemoryAllocator() : base(alignment: 8) { }

    /// <inheritdoc/>
    protected override IMemoryOwner<byte> AllocateInternal(int length, out int bytesAllocated)
    {
        bytesAllocated = length;
        return new Owner(GC.AllocateUninitializedArray<byte>(length));
    }

    private sealed class Owner(byte[] array) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory => array;
        public void Dispose() { }
    }
}
