"""The course's snippets, shipped so that `python -m mi_course check` can run a page's
own solution."""
