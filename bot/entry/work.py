"""`python -m bot.entry.work`: the worker process `ai-intake run` starts beside itself over HTTP (bot/entry/worker.py
says what it does and why). It reads the same settings and config as the front (it inherits its environment) and
builds the same bot."""

import sys


def main() -> int:
    from bot.entry.run import make_bot, start_with_retries
    from bot.entry.worker import serve
    from bot.runtime.config import load_config
    from bot.runtime.logs import setup_logging
    from bot.runtime.settings import hook_secrets, load_settings

    settings = load_settings()
    config = load_config(settings.config_path)
    secrets = hook_secrets({name: source.secret_env for name, source in config.hooks.items()})
    setup_logging(
        secrets=[settings.bot_token, settings.signing_secret, settings.app_token, *secrets.values()],
        fmt=settings.log_format,
    )
    return serve(lambda sleep: start_with_retries(lambda: make_bot(settings, config), sleep=sleep))


if __name__ == "__main__":
    sys.exit(main())
