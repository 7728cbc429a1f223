using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Longshot.Diffusion.Vae;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Video.Store;

namespace Longshot.Diffusion.Training;

/// <summary>
/// Latents of every frame of a dataset store, encoded once by the (T-)KLVAE over consecutive frames with the chunked
/// codec and scaled by its scaling factor — the same way generated videos are decoded. Diffusion training then reads
/// latents instead of encoding pixels every step (and never feeds the VAE's temporal layers frames 225 apart).
/// Stored per episode as safetensors under DATA/latents/VAEHASH/, each file written atomically, so an interrupted
/// build resumes episode by episode.
/// </summary>
public sealed class LatentCache
{
    private readonly Dictionary<string, Tensor> _episodes;

    private LatentCache(Dictionary<string, Tensor> episodes) => _episodes = episodes;

    /// <summary>The cache folder of a VAE inside a store: named by <see cref="VaeHash"/>.</summary>
    public static string FolderFor(DatasetStore store, string vaeFolder) =>
        Path.Combine(store.Root, "latents", VaeHash(vaeFolder));

    /// <summary>
    /// A short hash of what decides a VAE's latents: its config and encoder-side weights. Latents encoded by another
    /// encoder are not reused; a decoder fine-tune (`train vae --stage decoder`) keeps caches and keyframe stores.
    /// </summary>
    public static string VaeHash(string vaeFolder)
    {
        using var sha = SHA256.Create();
        foreach (var f in new[] { "config.json", AutoencoderKL.WeightsFile })
            if (!File.Exists(Path.Combine(vaeFolder, f)))
                throw new SettingException("Vae", $"{vaeFolder} has no {f}: not a VAE folder.");
        var config = File.ReadAllBytes(Path.Combine(vaeFolder, "config.json"));
        sha.TransformBlock(config, 0, config.Length, null, 0);
        var weights = SafeTensors.Load(Path.Combine(vaeFolder, AutoencoderKL.WeightsFile));
        foreach (var (name, t) in weights.Where(w => !AutoencoderKL.IsDecoder(w.Key)).OrderBy(w => w.Key,
            StringComparer.Ordinal))
        {
            var nameBytes = System.Text.Encoding.UTF8.GetBytes(name);
            var data = MemoryMarshal.AsBytes(t.ToArray().AsSpan()).ToArray();
            sha.TransformBlock(nameBytes, 0, nameBytes.Length, null, 0);
            sha.TransformBlock(data, 0, data.Length, null, 0);
        }
        sha.TransformFinalBlock(Array.Empty<byte>(), 0, 0);
        return Convert.ToHexStringLower(sha.Hash!)[..16];
    }

    /// <summary>Encodes the episodes not yet cached, then loads every episode's latents.</summary>
    public static LatentCache Build(DatasetStore store, IEnumerable<StoredEpisode> episodes, string vaeFolder,
        IProgress<(int Done, int Total)>? progress = null, CancellationToken ct = default)
    {
        var dir = FolderFor(store, vaeFolder);
        Directory.CreateDirectory(dir);
        var list = episodes.ToList();
        AutoencoderKL? vae = null;
        var loaded = new Dictionary<string, Tensor>();
        for (int i = 0; i < list.Count; i++)
        {
            var ep = list[i];
            var path = Path.Combine(dir, ep.Entry.Name + ".safetensors");
            Tensor? z = null;
            if (File.Exists(path))
            {
                try { z = SafeTensors.Load(path)["latents"]; }
                catch (SafeTensorsFormatException) { z = null; } // damaged: encode again
                if (z != null && z.Shape[0] != ep.FrameCount) z = null;
            }
            if (z == null)
            {
                vae ??= AutoencoderKL.Load(vaeFolder);
                var codec = new ChunkedVideoCodec(vae);
                var frames = ep;
                z = vae.ScaleLatents(codec.Encode(
                    (s, n) => ClipSampler.Load(Enumerable.Range(s, n).Select(f => (frames, f)).ToList(), 1),
                        ep.FrameCount, ct));
                SafeTensors.Save(path, new Dictionary<string, Tensor> { ["latents"] = z }, DType.F16);
                z = SafeTensors.Load(path)["latents"]; // use exactly what later runs will read
            }
            loaded[ep.Entry.Name] = z;
            progress?.Report((i + 1, list.Count));
        }
        return new LatentCache(loaded);
    }

    /// <summary>Scaled latents [n, c, h, w] of the given frames of an episode.</summary>
    public Tensor Frames(StoredEpisode ep, IReadOnlyList<int> frames)
    {
        if (!_episodes.TryGetValue(ep.Entry.Name, out var z))
            throw new KeyNotFoundException($"episode {ep.Entry.Name} is not in the latent cache.");
        return Ops.Concat(frames.Select(f => z.Narrow(0, f, 1)).ToList(), 0).Contiguous();
    }
}
