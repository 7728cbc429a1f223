using System.Security.Cryptography;
using System.Text;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Pipelines;

/// <summary>
/// Finished work units of a generation run, one safetensors file per unit, written atomically; run.json records the
/// settings so a rerun with other settings is refused rather than mixed. While open, the store holds run.lock, so a
/// second process on the same folder is refused instead of doing the same work; the lock goes with the process,
/// however it ends.
/// </summary>
internal sealed class UnitStore : IDisposable
{
    private readonly string _dir;
    private readonly FileStream _lock;

    private UnitStore(string dir, FileStream runLock)
    {
        _dir = dir; _lock = runLock;
    }

    /// <summary>Units whose files were damaged and will be recomputed, with the reason.</summary>
    public List<string> Damaged { get; } = new();

    public static UnitStore Open(string dir, string identity)
    {
        if (File.Exists(dir)) throw new LongshotException($"run folder {dir} is a file, not a folder.");
        Directory.CreateDirectory(Path.Combine(dir, "units"));
        FileStream runLock;
        try
        {
            runLock = new FileStream(Path.Combine(dir, "run.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite,
                FileShare.None);
        }
        catch (IOException)
        {
            throw new SettingException("RunDir", $"run folder {dir} is in use by another longshot process; wait for " +
                "it to finish (or stop it), or use another run folder.");
        }
        try
        {
            var idPath = Path.Combine(dir, "run.json");
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)));
            if (File.Exists(idPath))
            {
                if (!File.ReadAllText(idPath).Contains(hash))
                    throw new SettingException("RunDir", $"{dir} holds a run with other settings (story, scheme, " +
                        "length, seed, sampler or clip settings); use another run folder or delete it.");
            }
            else AtomicFile.WriteAllText(idPath, $"{{\"settings_sha256\": \"{hash}\"}}");
            return new UnitStore(dir, runLock);
        }
        catch
        {
            runLock.Dispose();
            throw;
        }
    }

    private string PathOf(WorkUnit u) => Path.Combine(_dir, "units", $"level{u.Level}_unit{u.Index:D6}.safetensors");

    /// <summary>The saved latents of <paramref name="u"/> if their file is whole and of <paramref
    /// name="shape"/>.</summary>
    public Tensor? TryLoad(WorkUnit u, int[] shape)
    {
        var p = PathOf(u);
        if (!File.Exists(p)) return null;
        try
        {
            var saved = SafeTensors.Load(p);
            if (saved.TryGetValue("latents", out var t) && t.Shape.AsSpan().SequenceEqual(shape)
                && t.ToArray().All(float.IsFinite))
                return t;
            Damaged.Add($"{p}: not the latents of this unit; recomputing it");
        }
        catch (SafeTensorsFormatException e) { Damaged.Add($"{e.Message}; recomputing the unit"); }
        return null;
    }

    public void Save(WorkUnit u, Tensor latents) =>
        SafeTensors.Save(PathOf(u), new Dictionary<string, Tensor> { ["latents"] = latents });

    public void Dispose() => _lock.Dispose();
}
