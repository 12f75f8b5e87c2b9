"""Demo material: writers for real office/PDF/web files, and the generated demo corpus."""
