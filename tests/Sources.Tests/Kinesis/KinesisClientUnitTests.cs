using System.Net;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using FluentAssertions;
using Sluice.Clients;
using Sluice.TestSupport;

namespace Sluice.Sources.Tests.Kinesis;

/// <summary>
/// Kinesis requests signed with the credentials AWS gives a platform: temporary ones carry their session token
/// (signed), and every request asks the credentials for their current keys, so that refreshing credentials (an assumed
/// role, web identity, a container or instance role) are renewed before they expire; a 5xx is retried. Against a
/// loopback server that records what it receives.
/// </summary>
public sealed class KinesisClientUnitTests
{
    /// <summary>Credentials that change their keys each time they are asked, as refreshing ones do when they renew.</summary>
    private sealed class Rotating : AWSCredentials
    {
        private int _asked;
        public override ImmutableCredentials GetCredentials()
        {
            int n = Interlocked.Increment(ref _asked);
            return new ImmutableCredentials($"AKID{n}", $"secret{n}", $"token{n}");
        }
    }

    /// <summary>A loopback server answering one request per response, in order, after showing each request to <paramref name="seen"/>.</summary>
    private static HttpListener Serve((int Status, string Body)[] responses, out Task served, Action<HttpListenerRequest> seen)
    {
        var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{LoopbackPort.Free()}/");
        listener.Start();
        served = Task.Run(async () =>
        {
            foreach (var (status, body) in responses)
            {
                var context = await listener.GetContextAsync();
                seen(context.Request);
                context.Response.StatusCode = status;
                await context.Response.OutputStream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(body));
                context.Response.Close();
            }
        });
        return listener;
    }

    [Fact]
    public async Task Each_request_is_signed_with_the_current_keys_and_session_token()
    {
        var seen = new List<(string? Authorization, string? Token)>();
        using var listener = Serve([(200, "{}"), (200, "{}")], out var server, r => seen.Add((r.Headers["Authorization"], r.Headers["X-Amz-Security-Token"])));
        using var client = new KinesisClient(new Uri(listener.Prefixes.Single()), "eu-west-1", new Rotating());
        await client.CallAsync("ListShards", new JsonObject { ["StreamName"] = "s" }, CancellationToken.None);
        await client.CallAsync("ListShards", new JsonObject { ["StreamName"] = "s" }, CancellationToken.None);
        await server;

        seen.Select(s => s.Token).Should().Equal("token1", "token2");
        seen[0].Authorization.Should().Contain("Credential=AKID1/").And.Contain("/eu-west-1/kinesis/aws4_request")
            .And.Contain("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target");
        seen[1].Authorization.Should().Contain("Credential=AKID2/");
    }

    [Fact]
    public void Long_term_keys_send_no_session_token()
    {
        using var client = new KinesisClient(new Uri("http://127.0.0.1:1/"), "us-east-1", "AKID", "secret");
        using var request = client.Sign("ListShards", "{}"u8.ToArray(), new ImmutableCredentials("AKID", "secret", null));
        request.Headers.Contains("X-Amz-Security-Token").Should().BeFalse();
        request.Headers.GetValues("Authorization").Single().Should().Contain("SignedHeaders=content-type;host;x-amz-date;x-amz-target,");
    }

    [Fact]
    public async Task A_server_error_is_retried_with_backoff()
    {
        int requests = 0;
        using var listener = Serve([(503, "<html>busy</html>"), (503, "<html>busy</html>"), (200, """{"Shards": []}""")], out var server, _ => requests++);
        using var client = new KinesisClient(new Uri(listener.Prefixes.Single()), "us-east-1", "AKID", "secret");
        var result = await client.CallAsync("ListShards", new JsonObject { ["StreamName"] = "s" }, CancellationToken.None);
        await server;
        requests.Should().Be(3);
        result!["Shards"]!.AsArray().Should().BeEmpty();
    }

    [Fact]
    public async Task Records_the_service_refused_are_put_again_alone()
    {
        var bodies = new List<JsonNode>();
        using var listener = Serve(
        [
            (200, """{"FailedRecordCount": 1, "Records": [{"SequenceNumber": "1"}, {"ErrorCode": "ProvisionedThroughputExceededException"}, {"SequenceNumber": "3"}]}"""),
            (200, """{"FailedRecordCount": 0, "Records": [{"SequenceNumber": "4"}]}"""),
        ], out var server, r => bodies.Add(JsonNode.Parse(new StreamReader(r.InputStream).ReadToEnd())!));
        using var client = new KinesisClient(new Uri(listener.Prefixes.Single()), "us-east-1", "AKID", "secret");
        await client.PutRecordsAsync("s", [("a"u8.ToArray(), "k1"), ("b"u8.ToArray(), "k2"), ("c"u8.ToArray(), "k3")], CancellationToken.None);
        await server;
        bodies.Should().HaveCount(2);
        bodies[0]!["Records"]!.AsArray().Should().HaveCount(3);
        var again = bodies[1]!["Records"]!.AsArray().Should().ContainSingle().Subject!;
        (again["Data"]!.GetValue<string>(), again["PartitionKey"]!.GetValue<string>()).Should().Be((Convert.ToBase64String("b"u8.ToArray()), "k2"));
    }
}
