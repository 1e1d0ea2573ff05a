"""community-bot: a GitHub App that does what a good Open Source Program Office does."""

__version__ = "0.1.0"
