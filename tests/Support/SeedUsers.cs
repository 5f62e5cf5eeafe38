namespace Sluice.TestSupport;

/// <summary>
/// The seed's first example as a definition, for tests and benchmarks that need "the users resolver" over some source:
/// the <c>User</c> class, the <c>ContactInfo</c> and <c>UserMessage</c> message types, and <c>get_users_stream</c> mapping
/// the four features.
/// </summary>
internal static class SeedUsers
{
    /// <summary>
    /// The definition with source <c>users</c> declared as <paramref name="source"/> (a YAML flow mapping such as
    /// <c>{kind: recording, path: users.arrows}</c>), <paramref name="messageFields"/> appended to <c>UserMessage</c>
    /// (e.g. <c>", uid: string?"</c>) and <paramref name="resolver"/> lines added to the resolver (indented by four).
    /// </summary>
    public static string Yaml(string source, string resolver = "", string messageFields = "") => $$"""
        features:
          User:
            max_staleness: 30d
            user_id: {type: int64, primary: true}
            full_name: string
            email_address: string?
            updated_at: timestamp?
        messages:
          ContactInfo: {phone_number: string, email_address: string?}
          UserMessage: {id: int64, name: string, updated_at: int64, contact_info: ContactInfo{{messageFields}}}
        sources:
          users: {{source}}
        resolvers:
          get_users_stream:
            source: users
            message_type: UserMessage
            output_features:
              User.user_id: _.id
              User.full_name: _.name
              User.email_address: _.contact_info.email_address
              User.updated_at: F.from_unix_seconds(_.updated_at / 1_000_000)
        """ + (resolver.Length == 0 ? "" : "\n" + string.Join("\n", resolver.Split('\n').Select(l => "    " + l)));
}
