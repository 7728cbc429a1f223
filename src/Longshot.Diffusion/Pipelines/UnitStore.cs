using System.Security.Cryptography;
using System.Text;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Pipelines;

/// <summary>
/// Finished work units of a generation run, one safetensors file per unit, written atomically; run.json records the
/// settings so a rerun with other settings is refused rather than mixed.
/// </summary>
internal sealed class UnitStore
{
    private readonly string _dir;

    private UnitStore(string dir) => _dir = dir;

    public static UnitStore Open(string dir, string identity)
    {
        Directory.CreateDirectory(Path.Combine(dir, "units"));
        var idPath = Path.Combine(dir, "run.json");
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)));
        if (File.Exists(idPath))
        {
            if (!File.ReadAllText(idPath).Contains(hash))
                throw new LongshotException($"{dir} holds a run with other settings (story, length, seed or " +
                    $"sampler); use another --run folder or delete it.");
        }
        else AtomicFile.WriteAllText(idPath, $"{{\"settings_sha256\": \"{hash}\"}}");
        return new UnitStore(dir);
    }

    private string PathOf(WorkUnit u) => Path.Combine(_dir, "units", $"level{u.Level}_unit{u.Index:D6}.safetensors");

    public Tensor? TryLoad(WorkUnit u)
    {
        var p = PathOf(u);
        if (!File.Exists(p)) return null;
        try { return SafeTensors.Load(p)["latents"]; }
        catch (SafeTensorsFormatException) { return null; } // damaged: recompute
    }

    public void Save(WorkUnit u, Tensor latents) =>
        SafeTensors.Save(PathOf(u), new Dictionary<string, Tensor> { ["latents"] = latents });
}
