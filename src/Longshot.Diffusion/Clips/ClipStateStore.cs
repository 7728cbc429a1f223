using System.Globalization;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Clips;

/// <summary>
/// Per-step sampling state of every clip in a run folder (clips/clipC_stepK.safetensors: the latents after K steps,
/// the scheduler's carried state and the generator's position), written atomically after each step. A clip drops its
/// step K - 1 file only once every clip of the video has finished step K (after the next step's stop agreement), so
/// at any moment all clips share a step to resume from.
/// </summary>
internal sealed class ClipStateStore(string dir)
{
    private const string SchedulerPrefix = "scheduler.";
    private readonly string _dir = Path.Combine(dir, "clips");

    /// <summary>Files that could not be read and were passed over, with the reason.</summary>
    public List<string> Damaged { get; } = new();

    private string PathOf(int clip, int step) => Path.Combine(_dir, $"clip{clip:D5}_step{step:D4}.safetensors");

    /// <summary>The steps saved for <paramref name="clip"/>.</summary>
    public IEnumerable<int> Steps(int clip)
    {
        if (!Directory.Exists(_dir)) yield break;
        string prefix = $"clip{clip:D5}_step";
        foreach (var f in Directory.EnumerateFiles(_dir, prefix + "*.safetensors"))
        {
            var name = Path.GetFileNameWithoutExtension(f);
            if (int.TryParse(name.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int k))
                yield return k;
        }
    }

    public void Save(int clip, int step, Tensor x, Dictionary<string, Tensor> scheduler, ulong rngCounter)
    {
        Directory.CreateDirectory(_dir);
        var tensors = new Dictionary<string, Tensor> { ["x"] = x };
        foreach (var (k, v) in scheduler) tensors[SchedulerPrefix + k] = v;
        SafeTensors.Save(PathOf(clip, step), tensors, metadata: new Dictionary<string, string>
        {
            ["rng_counter"] = rngCounter.ToString(CultureInfo.InvariantCulture),
        });
    }

    /// <summary>The state of <paramref name="clip"/> after <paramref name="step"/> steps, or null if its file is
    /// missing or damaged (then recorded in <see cref="Damaged"/>).</summary>
    public (Tensor X, Dictionary<string, Tensor> Scheduler, ulong RngCounter)? TryLoad(int clip, int step, int[] shape)
    {
        var p = PathOf(clip, step);
        if (!File.Exists(p)) return null;
        try
        {
            ulong counter;
            using (var f = SafeTensorsFile.Open(p))
                if (!f.Metadata.TryGetValue("rng_counter", out var c) || !ulong.TryParse(c, NumberStyles.None,
                    CultureInfo.InvariantCulture, out counter))
                {
                    Damaged.Add($"{p}: no generator position");
                    return null;
                }
            var t = SafeTensors.Load(p);
            if (!t.TryGetValue("x", out var x) || !x.Shape.AsSpan().SequenceEqual(shape)
                || !x.ToArray().All(float.IsFinite))
            {
                Damaged.Add($"{p}: not the latents of this clip");
                return null;
            }
            var scheduler = t.Where(kv => kv.Key.StartsWith(SchedulerPrefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[SchedulerPrefix.Length..], kv => kv.Value);
            return (x, scheduler, counter);
        }
        catch (SafeTensorsFormatException e)
        {
            Damaged.Add(e.Message);
            return null;
        }
    }

    /// <summary>Removes every saved step of <paramref name="clip"/> before <paramref name="step"/>.</summary>
    public void DropBefore(int clip, int step)
    {
        foreach (var k in Steps(clip).Where(k => k < step).ToList()) File.Delete(PathOf(clip, k));
    }
}
