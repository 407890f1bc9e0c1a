// `npm start`: the app with a ready demo VM (Electron where its binary exists, else web mode).
console.error('npm start: the app is not built yet (see issue 3).');
process.exit(1);
