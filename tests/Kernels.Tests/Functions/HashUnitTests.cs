using System.IO.Hashing;
using CsCheck;
using FluentAssertions;
using Sluice.Kernels.Functions;

namespace Sluice.Kernels.Tests.Functions;

public class HashUnitTests
{
    [Fact]
    public void Xxhash64_matches_System_IO_Hashing_on_all_lengths()
    {
        Gen.Byte.Array[0, 200].Sample(data =>
            HashFunctions.XxHash64(data).Should().Be(XxHash64.HashToUInt64(data)), iter: 2000);
    }
}
