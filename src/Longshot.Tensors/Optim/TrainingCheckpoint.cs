using System.Globalization;
using Longshot.Tensors.Nn;
using Longshot.Tensors.IO;

namespace Longshot.Tensors.Optim;

/// <summary>
/// A training checkpoint in one safetensors file: weights (model.*), optimizer state (optim.*), optional EMA
/// weights (ema.*), and in the metadata the step, the optimizer's step count and the RNG position. Written
/// atomically, so a crash during a save leaves the previous checkpoint intact; loading restores everything,
/// so training resumes exactly where it stopped.
/// </summary>
public static class TrainingCheckpoint
{
    /// <summary>Saves the training state.</summary>
    public static void Save(string path, ParameterStore model, Optimizer optimizer, long step, Rng rng, Ema? ema = null,
        IReadOnlyDictionary<string, string>? extra = null) =>
        Save(path, model, optimizer.StateTensors(), optimizer, step, rng, ema, extra);

    /// <summary>
    /// Saves the training state with <paramref name="optimizerState"/> in place of the optimizer's own (the whole
    /// state gathered from the ranks of a job whose optimizer is sharded); the file is the same as one process's.
    /// </summary>
    public static void Save(string path, ParameterStore model, IReadOnlyDictionary<string, Tensor> optimizerState,
        Optimizer optimizer, long step, Rng rng, Ema? ema = null, IReadOnlyDictionary<string, string>? extra = null)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, t) in model.Named) tensors[$"model.{name}"] = t;
        foreach (var (k, t) in optimizerState) tensors[$"optim.{k}"] = t;
        if (ema != null) foreach (var (k, t) in ema.Weights()) tensors[$"ema.{k}"] = t;
        var meta = new Dictionary<string, string>
        {
            ["format"] = "longshot-training-checkpoint/1",
            ["step"] = step.ToString(CultureInfo.InvariantCulture),
            ["optimizer"] = optimizer.GetType().Name,
            ["optimizer_steps"] = optimizer.StepCount.ToString(CultureInfo.InvariantCulture),
            ["learning_rate"] = optimizer.LearningRate.ToString("R", CultureInfo.InvariantCulture),
            ["rng_seed"] = rng.Seed.ToString(CultureInfo.InvariantCulture),
            ["rng_counter"] = rng.Counter.ToString(CultureInfo.InvariantCulture),
        };
        if (extra != null) foreach (var (k, v) in extra) meta[$"extra.{k}"] = v;
        SafeTensors.Save(path, tensors, DType.F32, meta);
    }

    /// <summary>One "extra" metadata value of a checkpoint (e.g. which kind of run wrote it), without loading
    /// tensors.</summary>
    public static string? ReadExtra(string path, string key)
    {
        using var f = SafeTensorsFile.Open(path);
        return f.Metadata.GetValueOrDefault($"extra.{key}");
    }

    /// <summary>What a loaded checkpoint says beyond the tensors.</summary>
    public sealed record Info(long Step, ulong RngSeed, ulong RngCounter, IReadOnlyDictionary<string, string> Extra);

    /// <summary>Restores weights, optimizer, EMA and RNG position; returns the step to continue from.</summary>
    public static Info Load(string path, ParameterStore model, Optimizer optimizer, Rng rng, Ema? ema = null)
    {
        using var f = SafeTensorsFile.Open(path);
        if (!f.Metadata.TryGetValue("format", out var fmt) || fmt != "longshot-training-checkpoint/1")
            throw new SafeTensorsFormatException($"{path}: not a Longshot training checkpoint (format " +
                $"'{fmt ?? "missing"}').");
        string optName = f.Metadata.GetValueOrDefault("optimizer", "");
        if (optName != optimizer.GetType().Name)
            throw new ArgumentException($"{path}: checkpoint was trained with {optName}, not " +
                $"{optimizer.GetType().Name}.");
        var all = f.LoadAll();
        Dictionary<string, Tensor> Part(string prefix) =>
            all.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
        model.Load(Part("model."), strict: true, sourceName: path);
        optimizer.LoadState(Part("optim."), long.Parse(f.Metadata["optimizer_steps"], CultureInfo.InvariantCulture));
        optimizer.LearningRate = float.Parse(f.Metadata["learning_rate"], CultureInfo.InvariantCulture);
        if (ema != null) ema.Load(Part("ema."));
        ulong seed = ulong.Parse(f.Metadata["rng_seed"], CultureInfo.InvariantCulture);
        ulong counter = ulong.Parse(f.Metadata["rng_counter"], CultureInfo.InvariantCulture);
        if (seed != rng.Seed)
            throw new ArgumentException($"{path}: checkpoint used RNG seed {seed}, but this run was started with " +
            $"seed {rng.Seed}.");
        rng.Restore(counter);
        var extra = f.Metadata.Where(kv => kv.Key.StartsWith("extra.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[6..], kv => kv.Value);
        return new Info(long.Parse(f.Metadata["step"], CultureInfo.InvariantCulture), seed, counter, extra);
    }
}
