"""{{ cookiecutter.project_name | replace("\\", "\\\\") }}.

{{ cookiecutter.description | replace("\\", "\\\\") | wordwrap(96) }}
"""

__version__ = "0.1.0"
