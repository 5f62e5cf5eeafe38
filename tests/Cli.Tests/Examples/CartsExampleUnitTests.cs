using System.Text.Json;
using FluentAssertions;

namespace Sluice.Cli.Tests.Examples;

/// <summary>
/// examples/carts through the CLI: fields read through a list of structs (<c>_.items.qty</c>) feed the list functions,
/// and the totals reach the online store (read back with 'sluice get') and the offline files.
/// </summary>
public sealed class CartsExampleUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-carts-cli-").FullName;
    private static readonly string Example = Path.Combine(AppContext.BaseDirectory, "examples", "carts");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Replay_totals_the_items_of_every_cart()
    {
        var online = $"sqlite:{Path.Combine(_dir, "online.db")}";
        var offline = Path.Combine(_dir, "offline");
        var (code, output, err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), Path.Combine(Example, "carts.jsonl"), "--resolver", "carts_stream", "--json",
            "--online", online, "--offline", offline]);
        code.Should().Be(0, err);
        JsonDocument.Parse(output).RootElement.GetProperty("resolvers").GetProperty("carts_stream").GetProperty("written").GetInt64().Should().Be(4);

        JsonElement Get(string cart)
        {
            var (c, o, e) = Cli.Run(["get", Path.Combine(Example, "sluice.yaml"), "--online", online, "Cart", cart]);
            c.Should().Be(0, e);
            return JsonDocument.Parse(o).RootElement;
        }
        var gift = Get("c-3");
        gift.GetProperty("cart.total_qty").GetInt64().Should().Be(7);
        gift.GetProperty("cart.largest_qty").GetInt64().Should().Be(6);
        gift.GetProperty("cart.skus").EnumerateArray().Select(s => s.GetString()).Should().Equal("GIFT", "TEA");
        gift.GetProperty("cart.has_gift").GetBoolean().Should().BeTrue();
        gift.GetProperty("cart.value").GetDouble().Should().Be(4.5);
        var empty = Get("c-2");
        (empty.GetProperty("cart.total_qty").GetInt64(), empty.GetProperty("cart.lines").GetInt64()).Should().Be((0, 0));
        empty.GetProperty("cart.largest_qty").ValueKind.Should().Be(JsonValueKind.Null, "an empty list has no largest item");
        Get("c-1").GetProperty("cart.total_qty").GetInt64().Should().Be(3, "the cart's later message wins");

        (await SluiceProcess.OfflineValues(offline, "cart.lines")).Order().Should().Equal(0, 1, 2, 2);
    }
}
