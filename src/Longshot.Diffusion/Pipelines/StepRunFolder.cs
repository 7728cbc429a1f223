using System.Globalization;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Pipelines;

/// <summary>
/// A step-by-step job's run folder: one safetensors file holding the state after the last finished step (latents,
/// sampler state) with the job's identity, written atomically. A rerun of the same job continues from there; a folder
/// of another job is refused rather than mixed in.
/// </summary>
public sealed class StepRunFolder(string folder, string fileName, string identity)
{
    private string StatePath => Path.Combine(folder, fileName);

    /// <summary>The step reached, its tensors and metadata, when this folder holds this job; null for a fresh
    /// folder.</summary>
    public (int Step, IReadOnlyDictionary<string, Tensor> Tensors, IReadOnlyDictionary<string, string> Metadata)?
        Resume()
    {
        if (!File.Exists(StatePath)) return null;
        using var file = SafeTensorsFile.Open(StatePath);
        if (!file.Metadata.TryGetValue("identity", out var id) || id != identity)
            throw new InputFileException(folder, $"{folder} holds another job (other model, settings, inputs or " +
                "seed); use a new run folder.");
        var tensors = file.LoadAll();
        return (int.Parse(file.Metadata["step"], CultureInfo.InvariantCulture), tensors, file.Metadata);
    }

    /// <summary>Saves the state after <paramref name="step"/> steps.</summary>
    public void Save(int step, IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        Directory.CreateDirectory(folder);
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>())
        {
            ["identity"] = identity, ["step"] = step.ToString(CultureInfo.InvariantCulture),
        };
        SafeTensors.Save(StatePath, tensors, metadata: meta);
    }
}
