using Longshot.Tensors.IO;

namespace Longshot.Tensors.Nn;

/// <summary>Checks shared by the models built over mapped weight files.</summary>
public static class MappedModel
{
    /// <summary>Every tensor of <paramref name="weights"/> must be one of the model's (or a known buffer in
    /// <paramref name="ignored"/>): a stray key means the file is for another model or config, so it is an error
    /// naming the file and the key.</summary>
    public static void RequireAllUsed(SafeTensorsSet weights, ParameterStore parameters, string className,
        IReadOnlyList<string>? ignored = null)
    {
        var unused = weights.Keys.Where(k => !parameters.Contains(k) && ignored?.Contains(k) != true)
            .OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (unused.Count > 0)
            throw new LongshotException($"{weights.File(unused[0]).Path}: holds '{unused[0]}', which a {className} " +
                "with this config does not have" + (unused.Count > 1 ? $" (and {unused.Count - 1} more)." : "."));
    }
}
