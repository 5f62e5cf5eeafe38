using Confluent.Kafka;
using FluentAssertions;
using Sluice.Clients;
using Sluice.Pipeline.Compilation;
using Sluice.TestSupport;

namespace Sluice.Sources.Tests.Kafka;

/// <summary>The client settings a kind: kafka source turns into (no broker needed).</summary>
public sealed class KafkaSettingsUnitTests
{
    private static ResolverPlan Resolver(string sourceFields)
    {
        var yaml = "features:\n  User: {user_id: {type: int64, primary: true}}\nmessages:\n  M: {id: int64}\nsources:\n"
            + "  s: {kind: kafka, bootstrap_servers: \"b1:9092,b2:9092\", topic: users" + sourceFields + "}\n"
            + "resolvers:\n  get_users:\n    source: s\n    message_type: M\n    output_features: {User.user_id: _.id}\n";
        var defs = DefinitionCompiler.CompileText(yaml, "t.yaml", TestDefinitions.Connectors, out var errors) ?? throw new InvalidOperationException(string.Join("\n", errors));
        return defs.Resolvers.Single();
    }

    [Fact]
    public void Defaults_give_each_resolver_its_own_group_under_sluice()
    {
        var plan = Resolver("");
        var settings = new KafkaSettings(plan.Source);
        settings.GroupId(plan).Should().Be("sluice/get_users");
        settings.Topic.Should().Be("users");
        settings.DeadLetterTopic.Should().BeNull();
        var client = settings.Client("get_users");
        client.BootstrapServers.Should().Be("b1:9092,b2:9092");
        client.ClientId.Should().Be("sluice/get_users");
    }

    [Fact]
    public void Every_chalk_field_and_the_additional_args_reach_the_client()
    {
        Environment.SetEnvironmentVariable("SLUICE_TEST_KAFKA_PASSWORD", "s3cret");
        var plan = Resolver(", client_id_prefix: \"app-\", group_id_prefix: \"grp.\", security_protocol: SASL_SSL, sasl_mechanism: SCRAM-SHA-512,"
            + " sasl_username: alice, sasl_password: \"${SLUICE_TEST_KAFKA_PASSWORD}\", ssl_ca_location: /etc/ca.pem, dead_letter_queue_topic: users-dlq,"
            + " additional_kafka_args: {fetch.min.bytes: \"1024\", session.timeout.ms: \"6000\"}");
        var settings = new KafkaSettings(plan.Source);
        settings.GroupId(plan).Should().Be("grp.get_users");
        settings.DeadLetterTopic.Should().Be("users-dlq");
        var client = settings.Client("get_users");
        client.ClientId.Should().Be("app-get_users");
        client.SecurityProtocol.Should().Be(SecurityProtocol.SaslSsl);
        client.Get("sasl.mechanism").Should().Be("SCRAM-SHA-512");
        client.SaslUsername.Should().Be("alice");
        client.SaslPassword.Should().Be("s3cret");
        client.SslCaLocation.Should().Be("/etc/ca.pem");
        client.Get("fetch.min.bytes").Should().Be("1024");
        client.Get("session.timeout.ms").Should().Be("6000");
    }

    [Fact]
    public void A_bad_security_protocol_is_a_compile_error_naming_the_source_and_the_choices_and_never_the_password()
    {
        // Found by the compiler (validate), before any client exists.
        var act = () => Resolver(", security_protocol: SASL_TLS, sasl_password: hunter2");
        act.Should().Throw<InvalidOperationException>()
            .Which.Message.Should().Contain("SLU225").And.Contain("source s").And.Contain("SASL_TLS").And.Contain("SASL_SSL").And.NotContain("hunter2");
    }
}
