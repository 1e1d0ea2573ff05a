"""Built-in jinja2 Markdown templates for every comment and check-run text the bot writes.

A repository overrides one by committing a file of the same name under
``.github/community-bot/templates/`` on its default branch.
"""
