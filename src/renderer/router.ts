// A small hash router: the app has five screens and no deep links worth a dependency. The hash
// keeps the /<token>/ path of web mode untouched.
import { reactive } from 'vue';

export type Route =
  | { name: 'library' }
  | { name: 'new'; disk?: string }
  | { name: 'settings' }
  | { name: 'images' }
  | { name: 'vm-settings'; id: string }
  | { name: 'console'; id: string }
  | { name: 'display'; id: string };

export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  // #/new/disk/<path>: the wizard with an image from the Images view as the VM's disk.
  if (parts[0] === 'new') return parts[1] === 'disk' && parts[2] ? { name: 'new', disk: parts[2] } : { name: 'new' };
  if (parts[0] === 'settings') return { name: 'settings' };
  if (parts[0] === 'images') return { name: 'images' };
  if (parts[0] === 'vm' && parts[1] && parts[2] === 'settings') return { name: 'vm-settings', id: parts[1] };
  if (parts[0] === 'vm' && parts[1] && parts[2] === 'console') return { name: 'console', id: parts[1] };
  if (parts[0] === 'vm' && parts[1] && parts[2] === 'display') return { name: 'display', id: parts[1] };
  return { name: 'library' };
}

export function hrefOf(route: Route): string {
  switch (route.name) {
    case 'library':
      return '#/';
    case 'new':
      return route.disk ? `#/new/disk/${encodeURIComponent(route.disk)}` : '#/new';
    case 'settings':
    case 'images':
      return `#/${route.name}`;
    case 'vm-settings':
      return `#/vm/${encodeURIComponent(route.id)}/settings`;
    case 'console':
      return `#/vm/${encodeURIComponent(route.id)}/console`;
    case 'display':
      return `#/vm/${encodeURIComponent(route.id)}/display`;
  }
}

export const current = reactive({ route: parseHash(location.hash) as Route });
window.addEventListener('hashchange', () => (current.route = parseHash(location.hash)));

export function go(route: Route): void {
  location.hash = hrefOf(route);
}
