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

    /// <summary>What the family is, for people ("a Mask Temporal Diffusion model (NUWA-XL)").</summary>
    public abstract string Title { get; }

    /// <summary>The index file of its folders: "model_index.json" (a pipeline) or "config.json" (one
    /// component).</summary>
    public abstract string IndexFile { get; }

    /// <summary>The type a folder of this family loads into.</summary>
    public abstract Type ModelType { get; }
}

/// <summary>A family whose folders load into <typeparamref name="TModel"/>.</summary>
public abstract class ModelFamily<TModel> : ModelFamily where TModel : class
{
    /// <inheritdoc/>
    public sealed override Type ModelType => typeof(TModel);

    /// <summary>Loads a folder of this family; every file is checked strictly.</summary>
    public abstract TModel Load(string folder);
}
