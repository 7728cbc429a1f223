using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Svd;

/// <summary>Checks shared by the models built over mapped weight files.</summary>
public static class MappedModel
{
    /// <summary>Every tensor of <paramref name="weights"/> must be one of the model's: a stray key means the file is
    /// for another model or config, so it is an error naming the file and the key.</summary>
    public static void RequireAllUsed(SafeTensorsSet weights, ParameterStore parameters, string className)
    {
        var unused = weights.Keys.Where(k => !parameters.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (unused.Count > 0)
            throw new LongshotException($"{weights.File(unused[0]).Path}: holds '{unused[0]}', which a {className} " +
                "with this config does not have" + (unused.Count > 1 ? $" (and {unused.Count - 1} more)." : "."));
    }
}
