return Sluice.Cli.CliApp.Run(args, Console.Out, Console.Error);
