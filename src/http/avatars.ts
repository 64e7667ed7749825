/**
 * Avatar images (docs/behaviour.md §1, §3 "Always public"), so every `profilePicture.path`
 * resolves: `/wiki/aa-avatar/{accountId}` is an SVG with the user's initials,
 * and the anonymous picture is a silhouette. Which picture an id gets is
 * domain/avatars.ts's decision; this file draws it.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import Type from 'typebox';
import type { Avatar, AvatarService } from '../domain/avatars.ts';
import type { Icon } from '../schemas/users.ts';
import { WIKI_CONTEXT } from './paths.ts';

export const AVATAR_SIZE = 48;
const AVATAR_PREFIX = `${WIKI_CONTEXT}/aa-avatar/`;

/**
 * Atlassian serves it from a versioned static path (`/wiki/s/<build>/…/_/images/…`);
 * `userplane` stands in for the build.
 */
export const ANONYMOUS_AVATAR_PATH = `${WIKI_CONTEXT}/s/userplane/_/images/icons/profilepics/anonymous.svg`;

/** `isDefault: false`: the initials picture is the user's own, as Atlassian reports for aa-avatar paths. */
export function userAvatar(accountId: string): Icon {
  return { path: `${AVATAR_PREFIX}${accountId}`, width: AVATAR_SIZE, height: AVATAR_SIZE, isDefault: false };
}

export const ANONYMOUS_AVATAR: Icon = {
  path: ANONYMOUS_AVATAR_PATH,
  width: AVATAR_SIZE,
  height: AVATAR_SIZE,
  isDefault: true,
};

/** Background colours with white text at WCAG AA contrast. */
const PALETTE = [
  '#0052CC',
  '#00875A',
  '#5243AA',
  '#BF2600',
  '#C25100',
  '#006644',
  '#403294',
  '#0747A6',
  '#974F0C',
  '#505F79',
];

/** Up to two letters: the first of the first and of the last word of the public name. */
export function initialsOf(name: string): string {
  const words = name
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  const first = (word: string | undefined) =>
    word === undefined ? '' : (Array.from(word)[0] ?? '').toLocaleUpperCase();
  if (words.length === 0) return '';
  return words.length === 1 ? first(words[0]) : first(words[0]) + first(words[words.length - 1]);
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const escapeXml = (text: string) => text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);

function colourFor(accountId: string): string {
  let hash = 0;
  for (const char of accountId) hash = (hash * 31 + char.codePointAt(0)!) >>> 0;
  return PALETTE[hash % PALETTE.length]!;
}

export function initialsSvg(accountId: string, name: string): string {
  const initials = escapeXml(initialsOf(name));
  const s = AVATAR_SIZE;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${s}" height="${s}" viewBox="0 0 ${s} ${s}" role="img" aria-label="${initials}">` +
    `<circle cx="${s / 2}" cy="${s / 2}" r="${s / 2}" fill="${colourFor(accountId)}"/>` +
    `<text x="50%" y="50%" dy=".35em" text-anchor="middle" fill="#FFFFFF" font-family="-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif" font-size="18" font-weight="600">${initials}</text>` +
    `</svg>`
  );
}

/** The generic picture: a head and shoulders. */
export const GENERIC_AVATAR_SVG =
  `<svg xmlns="http://www.w3.org/2000/svg" width="${AVATAR_SIZE}" height="${AVATAR_SIZE}" viewBox="0 0 48 48" role="img" aria-label="Anonymous">` +
  '<circle cx="24" cy="24" r="24" fill="#DFE1E6"/>' +
  '<circle cx="24" cy="19" r="8" fill="#7A869A"/>' +
  '<path d="M9 40c2.5-7.5 8.5-11 15-11s12.5 3.5 15 11a23.9 23.9 0 0 1-30 0z" fill="#7A869A"/>' +
  '</svg>';

function sendSvg(reply: FastifyReply, svg: string): FastifyReply {
  return (
    reply
      .type('image/svg+xml; charset=utf-8')
      .header('cache-control', 'public, max-age=60')
      .header('x-content-type-options', 'nosniff')
      // An SVG opened on its own is a document: it may run nothing and load nothing.
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
      .send(svg)
  );
}

const TAGS = ['Avatars'];

const SVG_IMAGE = { description: 'An SVG image.', content: { 'image/svg+xml': { schema: Type.String() } } };

function svgOf(avatar: Avatar): string {
  return avatar.kind === 'initials' ? initialsSvg(avatar.accountId, avatar.publicName) : GENERIC_AVATAR_SVG;
}

export interface AvatarRoutesOptions {
  avatars: AvatarService;
}

export const avatarRoutes: FastifyPluginAsyncTypebox<AvatarRoutesOptions> = async (app, { avatars }) => {
  app.get(
    `${AVATAR_PREFIX}:accountId`,
    {
      schema: {
        tags: TAGS,
        summary: "A user's avatar: an SVG with their initials",
        params: Type.Object({ accountId: Type.String() }),
        response: { 200: SVG_IMAGE },
      },
      config: { access: { kind: 'public' } },
    },
    async (request, reply) => sendSvg(reply, svgOf(await avatars.avatarOf(request.site.id, request.params.accountId))),
  );

  app.get(
    ANONYMOUS_AVATAR_PATH,
    {
      schema: {
        tags: TAGS,
        summary: "The anonymous user's avatar",
        querystring: Type.Object({}),
        response: { 200: SVG_IMAGE },
      },
      config: { access: { kind: 'public' } },
    },
    async (_request, reply) => sendSvg(reply, GENERIC_AVATAR_SVG),
  );
};
