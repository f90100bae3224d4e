// Loads the WebAssembly module; a failure shows a message instead of a blank page.
import init from './kafkasim.js';

init({ module_or_path: new URL('./kafkasim_bg.wasm', import.meta.url) }).catch((error) => {
  const fatal = document.getElementById('fatal');
  fatal.textContent = 'kafkasim could not start in this browser: ' + error + '\nIt needs WebAssembly (any current browser has it).';
  fatal.hidden = false;
});
