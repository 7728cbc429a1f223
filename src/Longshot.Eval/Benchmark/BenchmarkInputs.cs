namespace Longshot.Eval.Benchmark;

/// <summary>What every benchmark reads: the dataset whose test split it scores against, the VAE that decodes, and the
/// feature extractor that scores.</summary>
public abstract record BenchmarkInputs
{
    public required string Data { get; init; }
    public required string Vae { get; init; }
    public required string Extractor { get; init; }
    /// <summary>The SHA-256 the extractor must have (null: any).</summary>
    public string? ExtractorSha256 { get; init; }
}
