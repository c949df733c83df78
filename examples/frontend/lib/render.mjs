/** Replace {{name}} placeholders with hashed asset paths; unknown ones fail the build. */
export function renderIndex(template, assets) {
  return template.replace(/\{\{([^}]+)\}\}/g, (_, name) => {
    if (!(name in assets)) throw new Error(`index.html references unknown asset ${name}`);
    return assets[name];
  });
}
