using Longshot.Cli;

return await LongshotCli.RunAsync(args, Console.Out, Console.Error);
