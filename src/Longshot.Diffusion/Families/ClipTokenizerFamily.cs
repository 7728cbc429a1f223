using Longshot.Diffusion.Text;

namespace Longshot.Diffusion.Families;

/// <summary>A CLIP tokenizer folder in Hugging Face's layout (tokenizer/ of the text-to-video models):
/// tokenizer_config.json naming CLIPTokenizer (or its fast twin, which reads the same files), vocab.json and
/// merges.txt.</summary>
public sealed class ClipTokenizerFamily : ModelFamily<ClipTokenizer>
{
    /// <inheritdoc/>
    public override string ClassName => "CLIPTokenizer";

    /// <inheritdoc/>
    public override bool Loads(string className) => className is "CLIPTokenizer" or "CLIPTokenizerFast";

    /// <inheritdoc/>
    public override string Title => "CLIP tokenizer";

    /// <inheritdoc/>
    public override string IndexFile => "tokenizer_config.json";

    /// <inheritdoc/>
    public override string Runs => "turns prompts into token ids for a CLIP text encoder";

    /// <inheritdoc/>
    public override ClipTokenizer Load(string folder) => ClipTokenizer.Load(folder);
}
