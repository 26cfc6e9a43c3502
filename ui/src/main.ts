// The inbox page's entry: no inline script anywhere, so the page runs under script-src 'self'.
import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';

mount(App, { target: document.getElementById('app')! });
