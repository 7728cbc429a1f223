using Longshot.Tensors;

namespace Longshot.Diffusion.Families;

/// <summary>
/// A family of model folders Longshot loads, known by the diffusers class name its folder records: a pipeline
/// folder's model_index.json (its "_class_name", or for Longshot's own pipelines the class of its "unet"), or a
/// component folder's config.json ("_class_name"). Each family is one type in <see cref="ModelFamilies"/>; a new
/// family (a published model) is a new entry there.
/// </summary>
public abstract class ModelFamily
{
    /// <summary>The diffusers class name that identifies the family's folders.</summary>
    public abstract string ClassName { get; }

    /// <summary>Whether a folder recording <paramref name="className"/> is of this family (its
    /// <see cref="ClassName"/>, or another name for the same files).</summary>
    public virtual bool Loads(string className) => className == ClassName;

    /// <summary>What the family is, for people ("a Mask Temporal Diffusion model (NUWA-XL)").</summary>
    public abstract string Title { get; }

    /// <summary>The index file of its folders: "model_index.json" (a pipeline), "config.json" (one component) or
    /// "tokenizer_config.json" (a tokenizer).</summary>
    public abstract string IndexFile { get; }

    /// <summary>The type a folder of this family loads into.</summary>
    public abstract Type ModelType { get; }

    /// <summary>What Longshot does with a folder of this family, in words (front ends add their commands).</summary>
    public virtual string Runs => ModelMethods.Count > 0
        ? $"its {string.Join(" and ", ModelMethods)} on saved inputs" : "loads as a part of a pipeline";

    /// <summary>The methods `longshot model run` can call on one component of this family (empty: none).</summary>
    public virtual IReadOnlyList<string> ModelMethods => Array.Empty<string>();

    /// <summary>
    /// Calls one method of a component folder of this family on inputs named after the diffusers forward
    /// arguments; the result is named "sample" (plus any other outputs). Families with no methods refuse.
    /// </summary>
    public virtual IReadOnlyDictionary<string, Tensor> RunMethod(string folder, string method,
        IReadOnlyDictionary<string, Tensor> inputs) =>
        throw new SettingException("Method", $"a {Title} has no method to run on its own.");

    /// <summary>The input tensor <paramref name="name"/> of a `model run`, or an error naming it and the
    /// method.</summary>
    protected static Tensor Input(IReadOnlyDictionary<string, Tensor> inputs, string name, string method) =>
        inputs.TryGetValue(name, out var t) ? t
            : throw new SettingException("Inputs", $"{method} needs an input tensor named '{name}' (has: " +
                $"{string.Join(", ", inputs.Keys.Order(StringComparer.Ordinal))}).");

    /// <summary>A scalar input (a tensor of one element).</summary>
    protected static float Scalar(IReadOnlyDictionary<string, Tensor> inputs, string name, string method)
    {
        var t = Input(inputs, name, method);
        return t.Numel == 1 ? t.ToArray()[0]
            : throw new SettingException("Inputs", $"{method}: '{name}' must hold one value, it has {t.Numel}.");
    }
}

/// <summary>A family whose folders load into <typeparamref name="TModel"/>.</summary>
public abstract class ModelFamily<TModel> : ModelFamily where TModel : class
{
    /// <inheritdoc/>
    public sealed override Type ModelType => typeof(TModel);

    /// <summary>Loads a folder of this family; every file is checked strictly.</summary>
    public abstract TModel Load(string folder);
}
