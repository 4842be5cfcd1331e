/**
 * The e-mail's HTML and text parts. Pure: the same message gives the same bytes.
 *
 * The HTML is built for the mail clients people actually read reports in: nested tables for layout
 * (Outlook's Word engine ignores flex, grid and most CSS on divs), every style inline (Gmail drops
 * <style> blocks in many views), no images, colours that keep their meaning without them (an arrow
 * character next to each change, not only a colour).
 */
import { ARROWS, INCOMPLETE_NOTE, kpiLine } from './channel-fns.ts';
import type { DeliveryFile, DeliveryMessage } from './channel-types.ts';

const COLOURS = { up: '#1a7f37', down: '#cf222e', flat: '#57606a' } as const;
const FONT = 'font-family:Arial,Helvetica,sans-serif;';

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

function fileList(files: DeliveryFile[]): string {
  return files.map((f) => `${f.filename} (${formatBytes(f.bytes)})`).join(', ');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function kpiRows(message: DeliveryMessage): string {
  return message.headline
    .map((k) => {
      const change = k.change
        ? `<span style="color:${COLOURS[k.change.direction]};font-weight:bold;">${ARROWS[k.change.direction]}&nbsp;${escapeHtml(k.change.text)}</span>`
        : '&nbsp;';
      return (
        '<tr>' +
        `<td style="${FONT}font-size:14px;color:#57606a;padding:8px 0;border-bottom:1px solid #eaeef2;">${escapeHtml(k.label)}</td>` +
        `<td align="right" style="${FONT}font-size:16px;font-weight:bold;color:#1f2328;padding:8px 12px;border-bottom:1px solid #eaeef2;">${escapeHtml(k.value)}</td>` +
        `<td align="right" style="${FONT}font-size:14px;padding:8px 0;border-bottom:1px solid #eaeef2;white-space:nowrap;">${change}</td>` +
        '</tr>'
      );
    })
    .join('');
}

function row(content: string, style = ''): string {
  return `<tr><td style="${FONT}padding:0 24px 16px;${style}">${content}</td></tr>`;
}

export function renderEmailHtml(message: DeliveryMessage, attached: boolean): string {
  const rows: string[] = [
    `<tr><td style="${FONT}padding:20px 24px 12px;font-size:20px;font-weight:bold;color:#1f2328;">${escapeHtml(message.subject)}</td></tr>`,
  ];
  if (message.incomplete) {
    rows.push(
      row(
        `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr><td style="${FONT}background:#fff8c5;border-left:4px solid #bf8700;padding:10px 12px;font-size:14px;color:#4d2d00;"><strong>&#9888; Incomplete data.</strong> ${escapeHtml(INCOMPLETE_NOTE.replace(/^Incomplete data: /, ''))}</td></tr></table>`,
      ),
    );
  }
  if (message.headline.length > 0) {
    rows.push(
      row(
        `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">${kpiRows(message)}</table>`,
      ),
    );
  }
  if (message.text) {
    const paragraphs = message.text
      .split('\n')
      .map((l) => escapeHtml(l))
      .join('<br>');
    rows.push(row(paragraphs, 'font-size:14px;line-height:20px;color:#1f2328;'));
  }
  if (attached && message.files.length > 0) {
    rows.push(row(`Attached: ${escapeHtml(fileList(message.files))}`, 'font-size:13px;color:#57606a;'));
  } else if (message.link) {
    const href = escapeHtml(message.link.url);
    rows.push(
      row(
        `<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr><td bgcolor="#0969da" style="background:#0969da;border-radius:4px;"><a href="${href}" style="${FONT}display:inline-block;padding:10px 18px;font-size:14px;font-weight:bold;color:#ffffff;text-decoration:none;">Download the report</a></td></tr></table>` +
          `<p style="${FONT}font-size:12px;color:#57606a;margin:8px 0 0;">The link works until ${escapeHtml(message.link.expiresAt)}.</p>`,
      ),
    );
  }
  return (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"></head>' +
    '<body style="margin:0;padding:0;background:#f6f8fa;">' +
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="#f6f8fa"><tr><td align="center" style="padding:24px 8px;">' +
    '<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" bgcolor="#ffffff" style="width:600px;max-width:100%;background:#ffffff;border:1px solid #d0d7de;">' +
    rows.join('') +
    `<tr><td style="${FONT}padding:12px 24px;font-size:11px;color:#8c959f;border-top:1px solid #eaeef2;">Sent by SalesFlow Analytics.</td></tr>` +
    '</table></td></tr></table></body></html>'
  );
}

export function renderEmailText(message: DeliveryMessage, attached: boolean): string {
  const lines: string[] = [message.subject, ''];
  if (message.incomplete) lines.push(`WARNING: ${INCOMPLETE_NOTE}`, '');
  lines.push(...message.headline.map(kpiLine));
  if (message.text) lines.push('', message.text);
  if (attached && message.files.length > 0) lines.push('', `Attached: ${fileList(message.files)}`);
  else if (message.link) {
    lines.push(
      '',
      `Download the report: ${message.link.url}`,
      `The link works until ${message.link.expiresAt}.`,
    );
  }
  return `${lines.join('\n')}\n`;
}
