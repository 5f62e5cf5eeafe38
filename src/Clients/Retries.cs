using Polly;
using Polly.Retry;
using Sluice.Pipeline.Observability;

namespace Sluice.Clients;

/// <summary>The retry strategy the clients share: a bounded number of retries with jittered exponential backoff from 100 ms.</summary>
internal static class Retries
{
    /// <summary>
    /// Retries what <paramref name="shouldHandle"/> accepts up to <paramref name="retries"/> times, at most
    /// <paramref name="maxDelay"/> apart; each retry counts in <c>sluice.retries{component}</c> when a component is named.
    /// </summary>
    public static ResiliencePipeline Backoff(PredicateBuilder<object> shouldHandle, TimeSpan maxDelay, string? component, int retries = 8) =>
        new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = shouldHandle,
            MaxRetryAttempts = retries,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(100),
            MaxDelay = maxDelay,
            OnRetry = _ =>
            {
                if (component is not null) SluiceMetrics.Retried(component);
                return default;
            },
        }).Build();
}
