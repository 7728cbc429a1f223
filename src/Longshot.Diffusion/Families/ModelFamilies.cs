using System.Text.Json;
using Longshot.Tensors;

namespace Longshot.Diffusion.Families;

/// <summary>
/// The registry of model families: a folder's class name (see <see cref="ModelFamily"/>) finds the family that loads
/// it. Loading through here is how a caller gets a typed model and a clear message when a folder is of another
/// family, or of one Longshot does not know.
/// </summary>
public static class ModelFamilies
{
    /// <summary>Every family Longshot loads.</summary>
    public static IReadOnlyList<ModelFamily> All { get; } = new ModelFamily[]
    {
        new MtdFamily(), new AutoencoderKLFamily(), new SvdUnetFamily(), new SvdVaeFamily(), new ClipVisionFamily(),
        new ClipTextFamily(), new SvdPipelineFamily(), new ClipTokenizerFamily(), new Unet3DFamily(),
        new TextToVideoPipelineFamily(),
    };

    /// <summary>The family of <paramref name="className"/>, or null.</summary>
    public static ModelFamily? ByClassName(string className) => All.FirstOrDefault(f => f.Loads(className));

    /// <summary>The family <typeparamref name="TModel"/> loads from.</summary>
    public static ModelFamily<TModel> Of<TModel>() where TModel : class =>
        All.OfType<ModelFamily<TModel>>().Single();

    /// <summary>The class name a model folder records (null when its index file names none or cannot be read: its
    /// loader then says what is wrong), and the index file it came from; an <see cref="InputFileException"/> when the
    /// folder is missing or holds neither index file.</summary>
    public static (string? ClassName, string IndexFile) ClassOf(string folder)
    {
        if (!Directory.Exists(folder)) throw new InputFileException(folder, $"model folder not found: {folder}");
        foreach (var index in new[] { "model_index.json", "config.json", "tokenizer_config.json" })
        {
            var path = Path.Combine(folder, index);
            if (File.Exists(path)) return (ReadClass(path, index == "model_index.json"), index);
        }
        throw new InputFileException(folder, $"{folder} has no model_index.json, config.json or " +
            "tokenizer_config.json: not a diffusers model folder.");
    }

    /// <summary>The family of a model folder (null when its index file names no class); an
    /// <see cref="InputFileException"/> naming the folder and its class when no family loads it.</summary>
    public static ModelFamily? Find(string folder)
    {
        var (className, index) = ClassOf(folder);
        return FamilyOf(folder, className, index);
    }

    private static ModelFamily? FamilyOf(string folder, string? className, string index) =>
        className == null ? null
        : ByClassName(className) ?? throw new InputFileException(folder, $"{Path.Combine(folder, index)}: " +
            $"the model class '{className}' is not one Longshot loads " +
            $"({string.Join(", ", All.Select(f => f.ClassName))}).");

    /// <summary>Checks, cheaply (the index file only), that <paramref name="folder"/> holds a model of the family
    /// <typeparamref name="TModel"/> loads from. A folder whose index file names no class passes when it is the
    /// family's index file: the loader reads it strictly and says what is missing.</summary>
    public static void Require<TModel>(string folder) where TModel : class
    {
        var want = Of<TModel>();
        var (className, index) = ClassOf(folder);
        var family = FamilyOf(folder, className, index);
        if (family == null ? index != want.IndexFile : family != want)
            throw new InputFileException(folder, $"{folder} holds " + (family == null ? $"no {want.IndexFile}"
                : $"a {family.Title} ({family.ClassName}, {family.IndexFile})") +
                $", not a {want.Title} ({want.ClassName}, {want.IndexFile}).");
    }

    /// <summary>Loads <paramref name="folder"/> as <typeparamref name="TModel"/>, refusing a folder of another
    /// family by name.</summary>
    public static TModel Load<TModel>(string folder) where TModel : class
    {
        Require<TModel>(folder);
        return Of<TModel>().Load(folder);
    }

    /// <summary>"_class_name" of a config.json (or the first of a transformers config's "architectures", or a
    /// tokenizer_config.json's "tokenizer_class"); for a
    /// model_index.json its "_class_name", else the class of its
    /// "unet" component (Longshot's own pipelines record no pipeline class). Null when there is none.</summary>
    private static string? ReadClass(string path, bool pipeline)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return null;
            foreach (var key in new[] { "_class_name", "tokenizer_class" })
                if (root.TryGetProperty(key, out var c) && c.ValueKind == JsonValueKind.String)
                    return c.GetString();
            // Hugging Face transformers components (image and text encoders) name their class here.
            if (!pipeline && root.TryGetProperty("architectures", out var a) && a.ValueKind == JsonValueKind.Array
                && a.GetArrayLength() > 0 && a[0].ValueKind == JsonValueKind.String)
                return a[0].GetString();
            if (pipeline && root.TryGetProperty("unet", out var unet) && unet.ValueKind == JsonValueKind.Array
                && unet.GetArrayLength() == 2 && unet[1].ValueKind == JsonValueKind.String)
                return unet[1].GetString();
            return null;
        }
        catch (JsonException) { return null; }
    }
}
