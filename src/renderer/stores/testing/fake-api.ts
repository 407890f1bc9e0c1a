// A stand-in for the preload/web API in store tests: each channel answers from `answers` (a missing
// one fails as main would), calls are recorded, events are pushed by the test, and a console
// replays "scrollback" and records what the store writes to it.
import type { AppEvent, Channel, VivariumApi } from '../../../shared/api';
import { ApiCallError } from '../../api/api-error';
import { setApi } from '../../api';

export function fakeApi(answers: Partial<Record<Channel, (...args: unknown[]) => unknown>>) {
  const calls: [string, unknown[]][] = [];
  let emit: (e: AppEvent) => void = () => undefined;
  const consoleWrites: string[] = [];
  const api: VivariumApi = {
    async invoke(channel, ...args) {
      calls.push([channel, args]);
      const answer = answers[channel];
      if (!answer) throw new ApiCallError({ code: 'x', message: `no answer for ${channel}` });
      return answer(...args) as never;
    },
    onEvent(listener) {
      emit = listener;
      return () => undefined;
    },
    openConsole(_id, onData) {
      onData(new TextEncoder().encode('scrollback'));
      return { write: (d) => void consoleWrites.push(d), close: () => undefined };
    },
  };
  setApi(api);
  return { calls, emit: (e: AppEvent) => emit(e), consoleWrites };
}
