"""Command-line tools (``python -m bot.tools.X``): evaluation, cross-validation, the process
supervisor (runner, scale) and tracker retention. Each says which environment runs it."""
