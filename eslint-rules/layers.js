// One-way dependencies between the project's layers (../shared/DESIGN.md, docs/ARCHITECTURE.md).
// Each rule names a folder, what it may import from the project, and what it may import only as
// types. An import that crosses a layer the wrong way is an error, so the map stays true.
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

/** @typedef {{ from: string, allow: string[], typeOnly?: string[], forbidPackages?: string[] }} Layer */

/** Ordered most specific first: the first `from` that contains the importing file applies. */
export const layers = /** @type {Layer[]} */ ([
  // Inside the emulator core: the CPU knows nothing of devices; devices know the bus, not the CPU.
  { from: 'src/emulator-core/cpu', allow: ['src/emulator-core/cpu'] },
  {
    from: 'src/emulator-core/devices',
    allow: [
      'src/emulator-core/devices',
      'src/emulator-core/block',
      'src/emulator-core/net',
      'src/emulator-core/display',
      'src/emulator-core/snapshot',
    ],
  },
  { from: 'src/emulator-core/block', allow: ['src/emulator-core/block', 'src/emulator-core/snapshot'] },
  { from: 'src/emulator-core/net', allow: ['src/emulator-core/net'] },
  { from: 'src/emulator-core/display', allow: ['src/emulator-core/display'] },
  { from: 'src/emulator-core/snapshot', allow: ['src/emulator-core/snapshot'] },
  { from: 'src/emulator-core/tcg', allow: ['src/emulator-core/tcg', 'src/emulator-core/cpu'] },
  // The rest of the core (machine, monitor, host) may use any of it, and nothing outside it.
  {
    from: 'src/emulator-core',
    allow: ['src/emulator-core'],
    forbidPackages: ['electron', 'vue', 'pinia'],
  },
  { from: 'src/shared', allow: ['src/shared'], forbidPackages: ['electron', 'vue', 'pinia'] },
  { from: 'src/preload', allow: ['src/shared', 'src/preload'] },
  { from: 'src/renderer', allow: ['src/renderer', 'src/shared'] },
  // Main's services import nothing from Electron; the Electron shell and the web server are transports.
  {
    from: 'src/main/services',
    allow: ['src/main/services', 'src/shared', 'src/emulator-core/block'],
    typeOnly: ['src/emulator-core'],
    forbidPackages: ['electron'],
  },
  {
    from: 'src/main/web',
    allow: ['src/main/web', 'src/main/services', 'src/shared'],
    typeOnly: ['src/emulator-core'],
    forbidPackages: ['electron'],
  },
  {
    from: 'src/main',
    allow: ['src/main', 'src/shared', 'src/emulator-core/block'],
    typeOnly: ['src/emulator-core'],
  },
  {
    from: 'src/cli',
    allow: ['src/cli', 'src/shared', 'src/emulator-core', 'src/main/services', 'src/main/web'],
    forbidPackages: ['electron', 'vue', 'pinia'],
  },
]);

const rel = (file) => path.relative(root, file).split(path.sep).join('/');
const inside = (file, dir) => file === dir || file.startsWith(dir + '/');

/** @type {import('eslint').Rule.RuleModule} */
export const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Imports follow the one-way dependencies of docs/ARCHITECTURE.md' },
    schema: [],
  },
  create(context) {
    const file = rel(context.filename);
    const layer = layers.find((l) => inside(file, l.from));
    if (!layer) return {};
    const check = (node, source, typeOnly) => {
      if (typeof source !== 'string') return;
      if (!source.startsWith('.')) {
        const pkg = source.startsWith('@') ? source.split('/').slice(0, 2).join('/') : source.split('/')[0];
        if (layer.forbidPackages?.includes(pkg)) {
          context.report({ node, message: `${layer.from} may not import the package '${pkg}'` });
        }
        return;
      }
      const target = rel(path.resolve(path.dirname(context.filename), source));
      if (!target.startsWith('src/')) return;
      if (layer.allow.some((a) => inside(target, a))) return;
      if (typeOnly && layer.typeOnly?.some((a) => inside(target, a))) return;
      const how = layer.typeOnly?.some((a) => inside(target, a)) ? ' (only `import type` is allowed)' : '';
      context.report({ node, message: `${layer.from} may not import ${target}${how}` });
    };
    return {
      ImportDeclaration(node) {
        check(node, node.source.value, node.importKind === 'type');
      },
      ExportNamedDeclaration(node) {
        if (node.source) check(node, node.source.value, node.exportKind === 'type');
      },
      ExportAllDeclaration(node) {
        check(node, node.source.value, node.exportKind === 'type');
      },
      ImportExpression(node) {
        if (node.source.type === 'Literal') check(node, node.source.value, false);
      },
    };
  },
};

export default { rules: { layers: layersRule } };
