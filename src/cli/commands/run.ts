import { notImplemented } from './not-implemented.js';

export default notImplemented('run');
