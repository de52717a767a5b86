"""`charter init`: a working project to start from, written from the templates in compiler/templates/init/."""
