using Longshot.Cli;

return await Commands.RunAsync(args);
