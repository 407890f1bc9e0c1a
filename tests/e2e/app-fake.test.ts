// The app suite against the stand-in core host: fast, and the only host that can be told to crash.
import { appSuite } from './app-suite';

appSuite('fake');
