using System.CommandLine;
using System.Globalization;
using Longshot.Diffusion.Families;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Cli.Commands;

/// <summary>`longshot model info|run|tokenize`: what a model folder holds, one component's forward on saved inputs
/// (how a converted checkpoint is checked against its reference), and a prompt's token ids.</summary>
internal static class ModelCommands
{
    private static Argument<string> Folder() => new("DIR") { Description = "model folder (diffusers layout)" };

    private static readonly Option<string?> Variant = CliOptions.Text("--variant",
        "weights variant to read, e.g. fp16 (default: full precision, or the only variant present)", "NAME");

    public static Command Create()
    {
        var c = new Command("model", "Inspect and run published model folders (docs/published-models.md).");
        c.Subcommands.Add(Info());
        c.Subcommands.Add(Run());
        c.Subcommands.Add(Tokenize());
        return c;
    }

    private static Command Tokenize()
    {
        var dir = new Argument<string>("DIR") { Description = "tokenizer folder (Hugging Face layout: " +
            "tokenizer_config.json, vocab.json, merges.txt)" };
        var text = CliOptions.Text("--text", "the prompt", "TEXT", true);
        var c = new Command("tokenize", "Prints a prompt's token ids as the text encoder reads them: the start " +
            "token, the prompt's tokens and the end token, cut to the encoder's length as the reference cuts, not " +
            "padded.");
        c.Arguments.Add(dir);
        return c.With(text).Runs((p, _) =>
        {
            var tokenizer = ModelFamilies.Load<Longshot.Diffusion.Text.ClipTokenizer>(p.GetValue(dir)!);
            var tokens = tokenizer.Tokenize(p.GetValue(text)!);
            if (tokens.Truncated)
                Console.Error.WriteLine($"--text: {tokens.TextTokens} tokens; the text encoder reads the first " +
                    $"{tokenizer.MaxLength - 2} of them (as diffusers and OpenAI cut prompts).");
            Console.WriteLine(string.Join(' ', tokens.Ids));
            return 0;
        });
    }

    private static Command Info()
    {
        var dir = Folder();
        var c = new Command("info", "The folder's family (or an ExVideo extension file's), what Longshot runs with " +
            "it, and its components' parameters and stored types.");
        c.Arguments.Add(dir);
        return c.With(Variant).Runs((p, _) =>
        {
            if (File.Exists(p.GetValue(dir)) && p.GetValue(dir)!.EndsWith(".safetensors", StringComparison.Ordinal))
                return Extension(p.GetValue(dir)!);
            var report = FolderReport.Describe(p.GetValue(dir)!, p.GetValue(Variant));
            Console.WriteLine($"folder     : {Path.GetFullPath(report.Folder)}");
            Console.WriteLine($"family     : {report.Family.Title} ({report.Family.ClassName})");
            Console.WriteLine($"runs       : {report.Family.Runs}{Command(report.Family)}");
            Console.WriteLine("components :");
            foreach (var part in report.Components)
            {
                string types = part.ElementsByType.Count == 0 ? "no weights"
                    : string.Join(" + ", part.ElementsByType.OrderByDescending(kv => kv.Value)
                        .Select(kv => kv.Key.ToString()));
                Console.WriteLine($"  {part.Name,-18} {part.ClassName ?? "?",-34} " +
                    $"{part.Parameters.ToString("N0", CultureInfo.InvariantCulture),15} parameters  {types}" +
                    (part.WeightFile != null ? $"  ({part.WeightFile})" : ""));
            }
            long total = report.Components.Sum(x => x.Parameters);
            Console.WriteLine($"total      : {total.ToString("N0", CultureInfo.InvariantCulture)} parameters");
            return 0;
        });
    }

    /// <summary>The command that runs a family's folders, for `model info`.</summary>
    private static string Command(ModelFamily family) => family switch
    {
        SvdPipelineFamily => " (longshot generate --model DIR --init-image PNG)",
        MtdFamily => " (longshot generate --global/--local/--extended DIR; longshot train)",
        ClipTokenizerFamily => " (longshot model tokenize DIR --text TEXT)",
        TextToVideoPipelineFamily => " (longshot generate --model DIR --prompt TEXT)",
        _ when family.ModelMethods.Count > 0 =>
            $" (longshot model run DIR --method {string.Join("|", family.ModelMethods)})",
        _ => "",
    };

    /// <summary>`model info FILE`: an ExVideo extension file, checked against SVD's published UNet.</summary>
    private static int Extension(string path)
    {
        var extension = Longshot.Diffusion.Svd.ExVideoSvdExtension.Open(path,
            new Longshot.Diffusion.Svd.SvdUnetConfig());
        var types = extension.Weights.ElementsByType();
        Console.WriteLine($"file       : {Path.GetFullPath(path)}");
        Console.WriteLine("family     : ExVideo extension of Stable Video Diffusion's UNet, " +
            $"{extension.Frames} frames");
        Console.WriteLine($"tensors    : {extension.Names.Count} ({types.Values.Sum().ToString("N0",
            CultureInfo.InvariantCulture)} parameters, {string.Join(" + ", types.Keys)})");
        Console.WriteLine($"runs       : longshot generate --model SVD_XT_DIR --extension {Path.GetFileName(path)} " +
            "--init-image PNG");
        return 0;
    }

    private static Command Run()
    {
        var dir = Folder();
        var inputs = CliOptions.Text("--inputs", "safetensors file of inputs named after the diffusers arguments " +
            "(sample, timestep, encoder_hidden_states, added_time_ids; z and num_frames to decode)", "FILE", true);
        var output = CliOptions.Text("--out", "safetensors file to write (the result as 'sample')", "FILE", true);
        var method = CliOptions.Text("--method", "forward, encode or decode (default: the component's first)", "NAME");
        var c = new Command("run", "Runs one component folder on saved inputs and writes its output.");
        c.Arguments.Add(dir);
        return c.With(inputs, output, method).Runs((p, _) =>
        {
            string folder = p.GetValue(dir)!, inPath = p.GetValue(inputs)!, outPath = p.GetValue(output)!;
            var family = ModelFamilies.Find(folder)
                ?? throw new LongshotException($"{folder}: its index file names no model class.");
            if (family.ModelMethods.Count == 0)
                throw new LongshotException($"{folder} is a {family.Title}: run one of its component folders.");
            string name = p.GetValue(method) ?? family.ModelMethods[0];
            if (!family.ModelMethods.Contains(name))
                throw new SettingException("Method", $"a {family.Title} runs {string.Join(" or ",
                    family.ModelMethods)}, not '{name}'.");
            if (!File.Exists(inPath)) throw new LongshotException($"--inputs: {inPath} not found.");
            if (Directory.Exists(outPath)) throw new LongshotException($"--out: {outPath} is a folder.");
            var tensors = SafeTensors.Load(inPath);
            IReadOnlyDictionary<string, Tensor> result;
            try { result = family.RunMethod(folder, name, tensors); }
            catch (ArgumentException e)
            {
                throw new LongshotException($"--inputs: {inPath} does not fit the model ({e.Message.TrimEnd('.')}).");
            }
            SafeTensors.Save(outPath, result);
            Console.WriteLine($"{name}: wrote {string.Join(", ", result.Select(kv =>
                $"{kv.Key} [{string.Join(", ", kv.Value.Shape)}]"))} to {Path.GetFullPath(outPath)}");
            return 0;
        });
    }
}
